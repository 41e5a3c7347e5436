package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"strings"

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
			// The token's id, not its name: names need not be unique.
			tokenID, ok := c.Get(tokenIDKey).(int64)
			if !ok {
				return next(c)
			}
			r := c.Request()
			sum := sha256.New()
			io.WriteString(sum, r.Method+" "+r.URL.RequestURI()+"\n")
			hashed := io.Writer(sum)
			var blind *boundaryBlind
			if mt, params, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err == nil && strings.HasPrefix(mt, "multipart/") && params["boundary"] != "" {
				// A client picks a form's boundary anew for each send.
				blind = &boundaryBlind{w: sum, sep: []byte(params["boundary"])}
				hashed = blind
			}
			body, err := spoolBody(r.Body, hashed)
			if err == nil && blind != nil {
				err = blind.flush()
			}
			if err != nil {
				// Past the body limit: a 413 (classify).
				return err
			}
			defer body.Close()
			r.Body = body
			hash := hex.EncodeToString(sum.Sum(nil))
			ctx := r.Context()
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

// spoolMemory is how much of a body spoolBody keeps in memory; past it
// the body goes to a temporary file, so that a large upload (a file of
// codes to import) costs no more memory than a small one.
const spoolMemory = 1 << 20

// spoolBody reads body to its end, writing it to sum as well, and returns
// a reader of it from the start: in memory when it is small, from a
// temporary file, removed on Close, when it is not.
func spoolBody(body io.Reader, sum io.Writer) (io.ReadCloser, error) {
	head, err := io.ReadAll(io.LimitReader(io.TeeReader(body, sum), spoolMemory+1))
	if err != nil {
		return nil, err
	}
	if len(head) <= spoolMemory {
		return io.NopCloser(bytes.NewReader(head)), nil
	}
	f, err := os.CreateTemp("", "coupond-request-*")
	if err != nil {
		return nil, fmt.Errorf("keep the request body: %w", err)
	}
	spooled := &tempFile{File: f}
	_, err = f.Write(head)
	if err == nil {
		_, err = io.Copy(f, io.TeeReader(body, sum))
	}
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		spooled.Close()
		return nil, err
	}
	return spooled, nil
}

// boundaryBlind writes to w what is written to it less every occurrence
// of sep, holding back the last len(sep)-1 bytes, which may begin one;
// flush writes them.
type boundaryBlind struct {
	w    io.Writer
	sep  []byte
	held []byte
}

func (b *boundaryBlind) Write(p []byte) (int, error) {
	b.held = append(b.held, p...)
	if bytes.Contains(b.held, b.sep) {
		b.held = bytes.ReplaceAll(b.held, b.sep, nil)
	}
	if keep := len(b.sep) - 1; len(b.held) > keep {
		if _, err := b.w.Write(b.held[:len(b.held)-keep]); err != nil {
			return 0, err
		}
		b.held = append(b.held[:0], b.held[len(b.held)-keep:]...)
	}
	return len(p), nil
}

func (b *boundaryBlind) flush() error {
	_, err := b.w.Write(b.held)
	b.held = nil
	return err
}

// tempFile is a temporary file that Close removes.
type tempFile struct{ *os.File }

func (t *tempFile) Close() error {
	err := t.File.Close()
	return errors.Join(err, os.Remove(t.Name()))
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
