package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// IdempotencyHeader is the request header that names an idempotency key.
const IdempotencyHeader = "Idempotency-Key"

// tokenIDKey is where the API's authentication leaves the id of the
// token a request came with.
const tokenIDKey = "apiTokenID"

// idempotencyStore keeps idempotency keys and the responses they gave.
type idempotencyStore interface {
	ClaimIdempotencyKey(ctx context.Context, scope, key, hash string) (*models.StoredResponse, error)
	FinishIdempotencyKey(ctx context.Context, scope, key string, resp models.StoredResponse) error
	ReleaseIdempotencyKey(ctx context.Context, scope, key string) error
}

// idempotent makes a write route honour Idempotency-Key: the first
// request with a key runs and its answer is kept (for
// models.IdempotencyKeyTTL); the same key again with the same method,
// address and body gets that answer again, marked Idempotent-Replayed,
// and does nothing; the same key with another request is a 422, and a
// retry while the first is still running a 409. Keys belong to the
// credential that sent them. Answers of 500 and more are not kept, so a
// retry after one runs again. It goes after the authentication.
func idempotent(store idempotencyStore, logger *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key := c.Request().Header.Get(IdempotencyHeader)
			if key == "" {
				return next(c)
			}
			if err := models.CheckIdempotencyKey(IdempotencyHeader, key); err != nil {
				return err
			}
			r := c.Request()
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return err
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			sum := sha256.New()
			io.WriteString(sum, r.Method+" "+r.URL.RequestURI()+"\n")
			sum.Write(body)
			hash := hex.EncodeToString(sum.Sum(nil))
			ctx := r.Context()
			// The token's id, not its name: names need not be unique.
			tokenID, ok := c.Get(tokenIDKey).(int64)
			if !ok {
				return next(c)
			}
			scope := fmt.Sprintf("token:%d", tokenID)
			stored, err := store.ClaimIdempotencyKey(ctx, scope, key, hash)
			if err != nil {
				return err
			}
			if stored != nil {
				c.Response().Header().Set("Idempotent-Replayed", "true")
				if stored.Location != "" {
					c.Response().Header().Set(echo.HeaderLocation, stored.Location)
				}
				return c.Blob(stored.Status, stored.ContentType, stored.Body)
			}
			tee := &teeWriter{ResponseWriter: c.Response().Writer}
			c.Response().Writer = tee
			if err := next(c); err != nil {
				c.Error(err)
			}
			// The claim is settled even if the client has gone.
			done := context.WithoutCancel(ctx)
			status := c.Response().Status
			if status >= http.StatusInternalServerError || !c.Response().Committed {
				if err := store.ReleaseIdempotencyKey(done, scope, key); err != nil {
					logger.Error("release idempotency key", "id", requestID(c), "err", err)
				}
				return nil
			}
			hdr := c.Response().Header()
			resp := models.StoredResponse{Status: status, ContentType: hdr.Get(echo.HeaderContentType), Location: hdr.Get(echo.HeaderLocation), Body: tee.buf.Bytes()}
			if err := store.FinishIdempotencyKey(done, scope, key, resp); err != nil {
				logger.Error("record idempotent response", "id", requestID(c), "err", err)
			}
			return nil
		}
	}
}

// teeWriter keeps a copy of what it writes.
type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
