package web

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// loginThrottle slows password guessing. Failures are counted per client
// address, and per email from that address, in token buckets
// (golang.org/x/time/rate): a bucket that is empty answers 429 until it
// refills. Because the email bucket is per address too, one person's
// failures never lock another person out.
type loginThrottle struct {
	now    func() time.Time
	every  time.Duration
	mu     sync.Mutex
	byIP   map[string]*rate.Limiter
	byPair map[string]*rate.Limiter
}

// Failures allowed before throttling, refilled one per loginRefill.
const (
	loginBurstPerEmail = 5
	loginBurstPerIP    = 20
	loginRefill        = time.Minute
	throttleMaxKeys    = 100_000
)

func newLoginThrottle(now func() time.Time) *loginThrottle {
	return &loginThrottle{now: now, every: loginRefill, byIP: map[string]*rate.Limiter{}, byPair: map[string]*rate.Limiter{}}
}

func (t *loginThrottle) limiter(m map[string]*rate.Limiter, key string, burst int) *rate.Limiter {
	l := m[key]
	if l == nil {
		if len(m) >= throttleMaxKeys {
			t.forgetFull(m)
		}
		l = rate.NewLimiter(rate.Every(t.every), burst)
		m[key] = l
	}
	return l
}

// forgetFull drops buckets that have refilled: they hold no memory of
// failures.
func (t *loginThrottle) forgetFull(m map[string]*rate.Limiter) {
	now := t.now()
	for k, l := range m {
		if l.TokensAt(now) >= float64(l.Burst()) {
			delete(m, k)
		}
	}
}

// RetryAfter is how long the client at ip must wait before trying email
// again; zero when it may try now.
func (t *loginThrottle) RetryAfter(ip, email string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	wait := time.Duration(0)
	for _, l := range []*rate.Limiter{t.byIP[ip], t.byPair[ip+"\x00"+email]} {
		if l == nil {
			continue
		}
		if tokens := l.TokensAt(now); tokens < 1 {
			d := time.Duration(math.Ceil((1 - tokens) * float64(t.every)))
			wait = max(wait, d)
		}
	}
	return wait
}

// Failed counts one failed login.
func (t *loginThrottle) Failed(ip, email string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.limiter(t.byIP, ip, loginBurstPerIP).AllowN(now, 1)
	t.limiter(t.byPair, ip+"\x00"+email, loginBurstPerEmail).AllowN(now, 1)
}

// Succeeded forgets the failures for this email from this address.
func (t *loginThrottle) Succeeded(ip, email string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.byPair, ip+"\x00"+email)
}
