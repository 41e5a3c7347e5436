package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
)

// TestPasswordChangeIsThrottled guesses the current password on the
// account page: five wrong guesses get 422, the sixth try gets 429 even
// with the right password, which is then not checked; after the wait the
// right password works. A successful change spends no try.
func TestPasswordChangeIsThrottled(t *testing.T) {
	t.Parallel()
	forEachDB(t, models.Config{}, func(t *testing.T, h *harness) {
		c := h.login(editorEmail)
		change := func(current, next string) response {
			t.Helper()
			form := url.Values{"currentPassword": {current}, "newPassword": {next}, "newPasswordConfirm": {next}}
			return h.doWith(c, "POST", "/account/password", strings.NewReader(form.Encode()), formHeaders)
		}
		const second, third = "second long password", "third long password"
		if r := change(testPassword, second); r.status != http.StatusSeeOther {
			t.Fatalf("change password: %d %.300s", r.status, r.body)
		}
		for i := range 5 {
			r := change("wrong guess "+strconv.Itoa(i), third)
			if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "is not your current password") {
				t.Fatalf("wrong current password %d: %d, want 422 saying so", i+1, r.status)
			}
		}
		r := change(second, third)
		if r.status != http.StatusTooManyRequests {
			t.Fatalf("sixth try, right password: %d, want 429", r.status)
		}
		if s, _ := strconv.Atoi(r.header.Get("Retry-After")); s < 1 || s > 60 {
			t.Errorf("Retry-After = %q, want 1 to 60 seconds", r.header.Get("Retry-After"))
		}
		if !strings.Contains(r.body, `data-testid="error-currentPassword"`) || !strings.Contains(r.body, "Wait ") || !strings.Contains(r.body, `action="/account/password"`) {
			t.Errorf("the 429 does not show the form with a message to wait: %.500s", r.body)
		}
		// Another account from the same address may still change its own.
		viewer := h.login(viewerEmail)
		form := url.Values{"currentPassword": {testPassword}, "newPassword": {third}, "newPasswordConfirm": {third}}
		if r := h.doWith(viewer, "POST", "/account/password", strings.NewReader(form.Encode()), formHeaders); r.status != http.StatusSeeOther {
			t.Errorf("another user from the same address: %d, want 303", r.status)
		}

		h.clock.Advance(2 * time.Minute)
		if r := change(second, third); r.status != http.StatusSeeOther {
			t.Fatalf("right password after the wait: %d %.300s", r.status, r.body)
		}
		if r := h.doWith(newClient(), "POST", "/login", loginForm(editorEmail, third), formHeaders); r.status != http.StatusSeeOther {
			t.Errorf("signing in with the new password: %d", r.status)
		}
	})
}
