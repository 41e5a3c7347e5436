package handlers

import (
	"context"
	"net/http"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// TokenStore is what the Tokens page needs.
type TokenStore interface {
	ListTokens(ctx context.Context) ([]models.APIToken, error)
	CreateToken(ctx context.Context, name, scope string) (models.APIToken, string, error)
	RevokeToken(ctx context.Context, id int64) (models.APIToken, error)
}

// Tokens serves API token management for admins.
type Tokens struct {
	Store TokenStore
}

// List shows every token and the create form.
func (h *Tokens) List(c echo.Context) error {
	return h.render(c, http.StatusOK, views.TokensView{Form: views.NewTokenForm{Scope: models.ScopeModify}})
}

func (h *Tokens) render(c echo.Context, status int, v views.TokensView) error {
	ts, err := h.Store.ListTokens(c.Request().Context())
	if err != nil {
		return err
	}
	for _, t := range ts {
		row := views.TokenRow{ID: t.ID, Name: t.Name, Scope: t.Scope, Hint: t.Hint, CreatedBy: t.CreatedBy, Created: TermsOf(c).Time(t.CreatedAt)}
		if t.LastUsedAt != nil {
			row.LastUsed = TermsOf(c).Time(*t.LastUsedAt)
		}
		if t.RevokedAt != nil {
			row.Revoked = TermsOf(c).Time(*t.RevokedAt)
		}
		v.Tokens = append(v.Tokens, row)
	}
	// The page may carry a secret: never let a cache keep it.
	c.Response().Header().Set("Cache-Control", "no-store")
	return Render(c, status, views.TokensPage(page(c, "API tokens", views.SectionTokens), v))
}

// Create makes a token and answers 201 with the Tokens page showing its
// secret, once. The secret goes only into this response (marked
// no-store): it is kept nowhere, not even in the session.
func (h *Tokens) Create(c echo.Context) error {
	f := views.NewTokenForm{Name: c.FormValue("name"), Scope: c.FormValue("scope")}
	t, secret, err := h.Store.CreateToken(c.Request().Context(), f.Name, f.Scope)
	if err == nil {
		v := views.TokensView{Form: views.NewTokenForm{Scope: models.ScopeModify}, NewName: t.Name, NewSecret: secret}
		return h.render(c, http.StatusCreated, v)
	}
	var formErr string
	if !formProblem(err, &f.Errors, &formErr) {
		return err
	}
	return h.render(c, http.StatusUnprocessableEntity, views.TokensView{Form: f})
}

// Revoke ends a token for good.
func (h *Tokens) Revoke(c echo.Context) error {
	id, err := httpx.PathID(c, "token")
	if err != nil {
		return err
	}
	tok, err := h.Store.RevokeToken(c.Request().Context(), id)
	if err != nil {
		return err
	}
	notify(c, "Token "+tok.Name+" revoked: requests using it are refused from now on.")
	return c.Redirect(http.StatusSeeOther, "/tokens")
}
