package web

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// loginThrottle slows password guessing. Failures are counted per client
// address, and per account from that address (the email at sign-in,
// "password:<user id>" when changing a password), in token buckets
// (golang.org/x/time/rate): a bucket that is empty answers 429 until it
// refills. Because the account bucket is per address too, one person's
// failures never lock another person out. Tries in progress count as
// spent, so concurrent guesses cannot all pass the check before any
// failure is recorded.
type loginThrottle struct {
	now    func() time.Time
	every  time.Duration
	mu     sync.Mutex
	byIP   map[string]*bucket
	byPair map[string]*bucket
}

// bucket is one key's failure budget and its tries in progress.
type bucket struct {
	lim     *rate.Limiter
	pending int
}

// Failures allowed before throttling, refilled one per loginRefill.
const (
	loginBurstPerEmail = 5
	loginBurstPerIP    = 20
	loginRefill        = time.Minute
	throttleMaxKeys    = 100_000
)

func newLoginThrottle(now func() time.Time) *loginThrottle {
	return &loginThrottle{now: now, every: loginRefill, byIP: map[string]*bucket{}, byPair: map[string]*bucket{}}
}

func (t *loginThrottle) bucket(m map[string]*bucket, key string, burst int) *bucket {
	b := m[key]
	if b == nil {
		if len(m) >= throttleMaxKeys {
			t.forgetIdle(m)
		}
		b = &bucket{lim: rate.NewLimiter(rate.Every(t.every), burst)}
		m[key] = b
	}
	return b
}

// forgetIdle drops buckets that have refilled and have no try in
// progress: they hold no memory of failures.
func (t *loginThrottle) forgetIdle(m map[string]*bucket) {
	now := t.now()
	for k, b := range m {
		if b.pending == 0 && b.lim.TokensAt(now) >= float64(b.lim.Burst()) {
			delete(m, k)
		}
	}
}

// Attempt books one try for the client at ip on account: an email, or a
// key that cannot be one, such as "password:<user id>". When
// either bucket has no token left beyond the tries in progress, it books
// nothing and says how long to wait. Otherwise settle must be called with
// the outcome: a failure spends a token from both buckets; a success
// spends nothing and forgets this account's failures from this address.
func (t *loginThrottle) Attempt(ip, account string) (time.Duration, func(succeeded bool)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	pair := ip + "\x00" + account
	buckets := []*bucket{t.bucket(t.byIP, ip, loginBurstPerIP), t.bucket(t.byPair, pair, loginBurstPerEmail)}
	wait := time.Duration(0)
	for _, b := range buckets {
		if avail := b.lim.TokensAt(now) - float64(b.pending); avail < 1 {
			wait = max(wait, time.Duration(math.Ceil((1-avail)*float64(t.every))))
		}
	}
	if wait > 0 {
		return wait, nil
	}
	for _, b := range buckets {
		b.pending++
	}
	return 0, func(succeeded bool) {
		t.mu.Lock()
		defer t.mu.Unlock()
		now := t.now()
		for _, b := range buckets {
			b.pending--
			if !succeeded {
				b.lim.AllowN(now, 1)
			}
		}
		if succeeded && buckets[1].pending == 0 && t.byPair[pair] == buckets[1] {
			delete(t.byPair, pair)
		}
	}
}
