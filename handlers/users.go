package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// UserStore is what the Users page needs.
type UserStore interface {
	ListUsers(ctx context.Context) ([]models.User, error)
	CreateUser(ctx context.Context, in models.UserInput) (models.User, error)
	SetUserRole(ctx context.Context, id int64, role string) (models.User, error)
	SetUserDisabled(ctx context.Context, id int64, disabled bool) (models.User, error)
	User(ctx context.Context, id int64) (models.User, error)
}

// Users serves account management for admins.
type Users struct {
	Store    UserStore
	Sessions Sessions
}

// List shows every account and the add-user form.
func (h *Users) List(c echo.Context) error {
	v := views.UsersView{Form: views.NewUserForm{Role: models.RoleViewer}}
	return h.render(c, http.StatusOK, v)
}

func (h *Users) render(c echo.Context, status int, v views.UsersView) error {
	us, err := h.Store.ListUsers(c.Request().Context())
	if err != nil {
		return err
	}
	me := CurrentUser(c)
	for _, u := range us {
		v.Users = append(v.Users, views.UserRow{ID: u.ID, Email: u.Email, Role: u.Role, Disabled: u.Disabled, Created: TermsOf(c).Time(u.CreatedAt), Self: me != nil && me.ID == u.ID})
	}
	return Render(c, status, views.UsersPage(page(c, "Users", views.SectionUsers), v))
}

// Create adds an account.
func (h *Users) Create(c echo.Context) error {
	f := views.NewUserForm{Email: c.FormValue("email"), Role: c.FormValue("role")}
	u, err := h.Store.CreateUser(c.Request().Context(), models.UserInput{Email: f.Email, Password: c.FormValue("password"), Role: f.Role})
	if err == nil {
		return h.done(c, "Added "+u.Email+" as "+u.Role+".")
	}
	var formErr string
	if !formProblem(err, &f.Errors, &formErr) {
		return err
	}
	return h.render(c, http.StatusUnprocessableEntity, views.UsersView{Form: f})
}

// SetRole changes a user's role.
func (h *Users) SetRole(c echo.Context) error {
	return h.change(c, func(ctx context.Context, id int64) (models.User, error) {
		return h.Store.SetUserRole(ctx, id, c.FormValue("role"))
	}, func(u models.User) string { return u.Email + " is now " + u.Role + "." })
}

// Disable ends an account's access and its sessions; the last enabled
// admin and one's own account are refused on the page.
func (h *Users) Disable(c echo.Context) error { return h.setDisabled(c, true) }

// Enable lets a disabled account sign in again.
func (h *Users) Enable(c echo.Context) error { return h.setDisabled(c, false) }

func (h *Users) setDisabled(c echo.Context, disabled bool) error {
	return h.change(c, func(ctx context.Context, id int64) (models.User, error) {
		if me := CurrentUser(c); me != nil && me.ID == id && disabled {
			return models.User{}, errDisableSelf
		}
		return h.Store.SetUserDisabled(ctx, id, disabled)
	}, func(u models.User) string {
		if u.Disabled {
			return u.Email + " is disabled and signed out everywhere."
		}
		return u.Email + " can sign in again."
	})
}

// change runs one change to a user and reports it on the Users page; a
// refusal the admin can act on (last admin, bad role) is shown there too.
func (h *Users) change(c echo.Context, do func(ctx context.Context, id int64) (models.User, error), notice func(models.User) string) error {
	id, err := httpx.PathID(c, "user")
	if err != nil {
		return err
	}
	u, err := do(c.Request().Context(), id)
	if err == nil {
		return h.done(c, notice(u))
	}
	var verr *models.ValidationError
	var refusal string
	switch {
	case errors.Is(err, errDisableSelf):
		refusal = errDisableSelf.Error() + "."
	case errors.Is(err, models.ErrLastAdmin):
		refusal = models.ErrLastAdmin.Error() + "."
	case errors.As(err, &verr):
		refusal = verr.Summary()
	default:
		return err
	}
	return h.render(c, http.StatusUnprocessableEntity, views.UsersView{Form: views.NewUserForm{Role: models.RoleViewer}, Error: "Refused: " + refusal})
}

// errDisableSelf keeps an admin from locking themselves out.
var errDisableSelf = errors.New("you cannot disable your own account")

func (h *Users) done(c echo.Context, notice string) error {
	notify(c, notice)
	return c.Redirect(http.StatusSeeOther, "/users")
}
