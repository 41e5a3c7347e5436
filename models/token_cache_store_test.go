package models_test

import (
	"errors"
	"testing"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
)

// A token is checked in memory once read, and a revocation is seen at
// once on the instance that made it and within 2 seconds on another.
func TestARevokedTokenIsRefusedEverywhereWithinTwoSeconds(t *testing.T) {
	t.Parallel()
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		stores, _ := openStores(t, dialect, models.Config{}, models.Config{})
		a, b := stores[0], stores[1]
		ctx := t.Context()
		for _, name := range []string{"here", "there"} {
			tok, plain, err := a.CreateToken(ctx, name, models.ScopeModify)
			if err != nil {
				t.Fatal(err)
			}
			// Both instances have read it.
			for _, s := range stores {
				if _, err := s.AuthenticateToken(ctx, plain); err != nil {
					t.Fatalf("a live token: %v", err)
				}
			}
			if name == "here" {
				if _, err := b.RevokeToken(ctx, tok.ID); err != nil {
					t.Fatal(err)
				}
				if _, err := b.AuthenticateToken(ctx, plain); !errors.Is(err, models.ErrUnauthenticated) {
					t.Errorf("the instance that revoked the token still takes it: %v", err)
				}
				continue
			}
			revoked := time.Now()
			if _, err := a.RevokeToken(ctx, tok.ID); err != nil {
				t.Fatal(err)
			}
			for {
				_, err := b.AuthenticateToken(ctx, plain)
				if errors.Is(err, models.ErrUnauthenticated) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if time.Since(revoked) > 2*time.Second {
					t.Fatalf("another instance still takes a token revoked %v ago", time.Since(revoked))
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("refused on the other instance %v after the revocation", time.Since(revoked).Round(time.Millisecond))
		}
	})
}
