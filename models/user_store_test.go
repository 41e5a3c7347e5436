package models_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"golang.org/x/crypto/bcrypt"
)

var fastHash = models.Config{PasswordCost: bcrypt.MinCost}

func mustCreateUser(t *testing.T, s *models.Store, email, role string) models.User {
	t.Helper()
	u, err := s.CreateUser(t.Context(), models.UserInput{Email: email, Password: "correct horse battery", Role: role})
	if err != nil {
		t.Fatalf("create user %s: %v", email, err)
	}
	return u
}

func TestUsersAndLogin(t *testing.T) {
	t.Parallel()
	storetest.Each(t, fastHash, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		u := mustCreateUser(t, s, " Ana@Example.com ", models.RoleEditor)
		if u.Email != "ana@example.com" || u.PasswordHash == "correct horse battery" {
			t.Fatalf("user = %+v: email must be normalised and the password hashed", u)
		}
		var verr *models.ValidationError
		if _, err := s.CreateUser(ctx, models.UserInput{Email: "ANA@example.com", Password: "another password", Role: "editor"}); !errors.As(err, &verr) || verr.Message(models.FieldEmail) == "" {
			t.Errorf("duplicate email: %v", err)
		}
		if _, err := s.CreateUser(ctx, models.UserInput{Email: "not-an-email", Password: "short", Role: "boss"}); !errors.As(err, &verr) || len(verr.Errors) != 3 {
			t.Errorf("bad fields: %v", err)
		}

		if got, err := s.Authenticate(ctx, "ANA@example.com", "correct horse battery"); err != nil || got.ID != u.ID {
			t.Fatalf("good login: %v", err)
		}
		for _, tc := range []struct{ email, pw string }{{"ana@example.com", "wrong password"}, {"nobody@example.com", "correct horse battery"}} {
			if _, err := s.Authenticate(ctx, tc.email, tc.pw); !errors.Is(err, models.ErrBadCredentials) {
				t.Errorf("login %s/%s: %v, want ErrBadCredentials", tc.email, tc.pw, err)
			}
		}

		admin := mustCreateUser(t, s, "root@example.com", models.RoleAdmin)
		if _, err := s.SetUserDisabled(ctx, u.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "ana@example.com", "correct horse battery"); !errors.Is(err, models.ErrBadCredentials) {
			t.Errorf("disabled account logged in: %v", err)
		}
		// The last enabled admin can be neither demoted nor disabled.
		if _, err := s.SetUserRole(ctx, admin.ID, models.RoleViewer); !errors.Is(err, models.ErrLastAdmin) {
			t.Errorf("demote last admin: %v", err)
		}
		if _, err := s.SetUserDisabled(ctx, admin.ID, true); !errors.Is(err, models.ErrLastAdmin) {
			t.Errorf("disable last admin: %v", err)
		}
		if _, err := s.SetUserRole(ctx, u.ID, models.RoleAdmin); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetUserDisabled(ctx, u.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetUserRole(ctx, admin.ID, models.RoleViewer); err != nil {
			t.Errorf("demote an admin while another is enabled: %v", err)
		}

		page, err := s.ListAudit(ctx, models.AuditFilter{Entity: models.EntityUser, Action: models.ActionLoginFailed})
		if err != nil || len(page.Events) != 3 {
			t.Fatalf("failed logins in the audit log: %d, %v", len(page.Events), err)
		}
		if page.Events[0].Summary != "account disabled" {
			t.Errorf("newest failed login summary = %q", page.Events[0].Summary)
		}
	})
}

func TestChangePasswordEndsSessions(t *testing.T) {
	t.Parallel()
	storetest.Each(t, fastHash, func(t *testing.T, s *models.Store) {
		u := mustCreateUser(t, s, "pw@example.com", models.RoleViewer)
		var verr *models.ValidationError
		if _, err := s.ChangePassword(t.Context(), u.ID, "wrong", "a brand new password"); !errors.As(err, &verr) || verr.Message(models.FieldCurrentPassword) == "" {
			t.Fatalf("wrong current password: %v", err)
		}
		if _, err := s.ChangePassword(t.Context(), u.ID, "correct horse battery", "short"); !errors.As(err, &verr) || verr.Message(models.FieldNewPassword) == "" || verr.Message(models.FieldCurrentPassword) != "" {
			t.Fatalf("short new password: %v", err)
		}
		// A wrong current password is always named, so that it is never
		// mistaken for a right one.
		if _, err := s.ChangePassword(t.Context(), u.ID, "wrong", "short"); !errors.As(err, &verr) || verr.Message(models.FieldCurrentPassword) == "" || verr.Message(models.FieldNewPassword) == "" {
			t.Fatalf("wrong current and short new password: %v", err)
		}
		got, err := s.ChangePassword(t.Context(), u.ID, "correct horse battery", "a brand new password")
		if err != nil {
			t.Fatal(err)
		}
		if got.SessionVersion != u.SessionVersion+1 {
			t.Errorf("session version %d → %d: sessions must end", u.SessionVersion, got.SessionVersion)
		}
		if _, err := s.Authenticate(t.Context(), "pw@example.com", "a brand new password"); err != nil {
			t.Errorf("new password refused: %v", err)
		}
	})
}

func TestSetupTokenIsSingleUse(t *testing.T) {
	t.Parallel()
	storetest.Each(t, fastHash, func(t *testing.T, s *models.Store) {
		ctx := t.Context()
		token, err := s.NewSetupToken(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CheckSetupToken(ctx, "nope"); !errors.Is(err, models.ErrSetupToken) {
			t.Errorf("unknown token: %v", err)
		}
		in := models.UserInput{Email: "first@example.com", Password: "first admin password"}
		u, err := s.SetupAdmin(ctx, token, in)
		if err != nil || u.Role != models.RoleAdmin {
			t.Fatalf("setup: %+v %v", u, err)
		}
		in.Email = "second@example.com"
		if _, err := s.SetupAdmin(ctx, token, in); !errors.Is(err, models.ErrSetupDone) {
			t.Errorf("second use: %v, want ErrSetupDone", err)
		}
		if _, err := s.NewSetupToken(ctx); !errors.Is(err, models.ErrSetupDone) {
			t.Errorf("a setup token with an account present: %v", err)
		}
	})
}

func TestSetupTokenHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	storetest.Each(t, fastHash, func(t *testing.T, s *models.Store) {
		token, err := s.NewSetupToken(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		ok := 0
		for i := range 8 {
			wg.Go(func() {
				_, err := s.SetupAdmin(t.Context(), token, models.UserInput{Email: fmt.Sprintf("a%d@example.com", i), Password: "first admin password"})
				if err == nil {
					mu.Lock()
					ok++
					mu.Unlock()
				} else if !errors.Is(err, models.ErrSetupDone) && !errors.Is(err, models.ErrSetupToken) {
					t.Errorf("unexpected error: %v", err)
				}
			})
		}
		wg.Wait()
		n, err := s.CountUsers(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if ok != 1 || n != 1 {
			t.Errorf("%d setups succeeded and %d accounts exist, want 1 and 1", ok, n)
		}
	})
}

func TestTokens(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	cfg := fastHash
	cfg.Now = func() time.Time { return clock }
	storetest.Each(t, cfg, func(t *testing.T, s *models.Store) {
		ctx := models.WithActor(t.Context(), models.Actor{Kind: models.ActorUser, Name: "root@example.com"})
		tok, secret, err := s.CreateToken(ctx, " checkout ", models.ScopeRead)
		if err != nil {
			t.Fatal(err)
		}
		if tok.Name != "checkout" || tok.Hash == secret || len(secret) < 40 || tok.CreatedBy != "root@example.com" {
			t.Fatalf("token = %+v, secret %q", tok, secret)
		}
		got, err := s.AuthenticateToken(ctx, secret)
		if err != nil || got.ID != tok.ID || got.CanWrite() || got.LastUsedAt == nil || !got.LastUsedAt.Equal(clock) {
			t.Fatalf("authenticate: %+v %v", got, err)
		}
		if _, err := s.AuthenticateToken(ctx, secret+"x"); !errors.Is(err, models.ErrUnauthenticated) {
			t.Errorf("wrong secret: %v", err)
		}
		if _, err := s.RevokeToken(ctx, tok.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AuthenticateToken(ctx, secret); !errors.Is(err, models.ErrUnauthenticated) {
			t.Errorf("revoked token still works: %v", err)
		}
		var verr *models.ValidationError
		if _, _, err := s.CreateToken(ctx, "", "admin"); !errors.As(err, &verr) || verr.Message(models.FieldName) == "" || verr.Message(models.FieldScope) == "" {
			t.Errorf("bad token input: %v", err)
		}
		page, err := s.ListAudit(t.Context(), models.AuditFilter{Entity: models.EntityToken})
		if err != nil || len(page.Events) != 2 || page.Events[0].Action != models.ActionTokenRevoke || page.Events[1].Actor != "root@example.com" {
			t.Errorf("token audit events: %+v %v", page.Events, err)
		}
	})
}

func TestCouponChangesAreAudited(t *testing.T) {
	t.Parallel()
	storetest.Each(t, models.Config{}, func(t *testing.T, s *models.Store) {
		ctx := models.WithActor(t.Context(), models.Actor{Kind: models.ActorToken, Name: "shop"})
		if _, _, err := s.UpsertCoupon(ctx, models.CouponSpec{Code: "AUD", MaxUsage: 1}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.UpsertCoupon(ctx, models.CouponSpec{Code: "aud", MaxUsage: 3}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetCouponArchived(ctx, "AUD", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GenerateCoupons(ctx, models.CouponRequest{Spec: models.CouponSpec{Code: "G"}, Quantity: 3, Generate: true}); err != nil {
			t.Fatal(err)
		}
		page, err := s.ListAudit(t.Context(), models.AuditFilter{Actor: "token:shop", Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) != 2 || page.Events[0].Action != models.ActionBatchGenerate || page.Events[1].Action != models.ActionCouponArchive || page.Next == "" {
			t.Fatalf("first page: %+v next %q", page.Events, page.Next)
		}
		rest, err := s.ListAudit(t.Context(), models.AuditFilter{Actor: "token:shop", Before: page.Next})
		if err != nil || len(rest.Events) != 2 || rest.Next != "" {
			t.Fatalf("second page: %+v %v", rest.Events, err)
		}
		if upd := rest.Events[0]; upd.Action != models.ActionCouponUpdate || upd.Summary != "max uses 1 → 3" || upd.EntityID != "AUD" {
			t.Errorf("update event = %+v", upd)
		}
		none, err := s.ListAudit(t.Context(), models.AuditFilter{Actor: "token:shop", From: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if len(none.Events) != 0 {
			t.Errorf("date filter let %d future events through", len(none.Events))
		}
	})
}

// TestUnknownEmailCostsAsMuchAsAnAccount checks, without timing anything,
// that a sign-in with an unknown email runs bcrypt at the cost real
// accounts are hashed with, so response times do not tell which emails
// have accounts.
func TestUnknownEmailCostsAsMuchAsAnAccount(t *testing.T) {
	t.Parallel()
	for _, cost := range []int{bcrypt.MinCost, bcrypt.MinCost + 2} {
		t.Run(fmt.Sprintf("cost %d", cost), func(t *testing.T) {
			t.Parallel()
			s := storetest.Open(t, models.DialectSQLite, models.Config{PasswordCost: cost})
			u := mustCreateUser(t, s, "cost@example.com", models.RoleViewer)
			account, err := bcrypt.Cost([]byte(u.PasswordHash))
			if err != nil || account != cost {
				t.Fatalf("an account's hash has cost %d (%v), want %d", account, err, cost)
			}
			if got, err := bcrypt.Cost(s.DummyHash()); err != nil || got != cost {
				t.Errorf("an unknown email is checked at cost %d (%v), want %d like an account", got, err, cost)
			}
		})
	}
}
