package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/web/webtest"
)

// TestPasswordChangeIsThrottled guesses the current password on the
// account page: five wrong guesses get 422, the sixth try gets 429 even
// with the right password, which is then not checked; after the wait the
// right password works. A successful change spends no try.
func TestPasswordChangeIsThrottled(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		c := h.Login(webtest.EditorEmail)
		change := func(current, next string) webtest.Response {
			t.Helper()
			form := url.Values{"currentPassword": {current}, "newPassword": {next}, "newPasswordConfirm": {next}}
			return h.DoWith(c, "POST", "/account/password", strings.NewReader(form.Encode()), formHeaders)
		}
		const second, third = "second long password", "third long password"
		if r := change(webtest.Password, second); r.Status != http.StatusSeeOther {
			t.Fatalf("change password: %d %.300s", r.Status, r.Body)
		}
		for i := range 5 {
			r := change("wrong guess "+strconv.Itoa(i), third)
			if r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "is not your current password") {
				t.Fatalf("wrong current password %d: %d, want 422 saying so", i+1, r.Status)
			}
		}
		r := change(second, third)
		if r.Status != http.StatusTooManyRequests {
			t.Fatalf("sixth try, right password: %d, want 429", r.Status)
		}
		if s, _ := strconv.Atoi(r.Header.Get("Retry-After")); s < 1 || s > 60 {
			t.Errorf("Retry-After = %q, want 1 to 60 seconds", r.Header.Get("Retry-After"))
		}
		if !strings.Contains(r.Body, `data-testid="error-currentPassword"`) || !strings.Contains(r.Body, "Wait ") || !strings.Contains(r.Body, `action="/account/password"`) {
			t.Errorf("the 429 does not show the form with a message to wait: %.500s", r.Body)
		}
		// Another account from the same address may still change its own.
		viewer := h.Login(webtest.ViewerEmail)
		form := url.Values{"currentPassword": {webtest.Password}, "newPassword": {third}, "newPasswordConfirm": {third}}
		if r := h.DoWith(viewer, "POST", "/account/password", strings.NewReader(form.Encode()), formHeaders); r.Status != http.StatusSeeOther {
			t.Errorf("another user from the same address: %d, want 303", r.Status)
		}

		h.Clock.Advance(2 * time.Minute)
		if r := change(second, third); r.Status != http.StatusSeeOther {
			t.Fatalf("right password after the wait: %d %.300s", r.Status, r.Body)
		}
		if r := h.DoWith(webtest.NewClient(), "POST", "/login", loginForm(webtest.EditorEmail, third), formHeaders); r.Status != http.StatusSeeOther {
			t.Errorf("signing in with the new password: %d", r.Status)
		}
	})
}
