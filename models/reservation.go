package models

import (
	"strings"
	"time"
)

// Reservation time bounds.
const (
	// DefaultReservationTTL is how long a use is held when the client
	// does not say.
	DefaultReservationTTL = 15 * time.Minute
	MinReservationTTL     = time.Second
	MaxReservationTTL     = 24 * time.Hour
)

// FieldTTL is how long a reservation holds its use.
const FieldTTL = "ttl"

// How a reservation ended.
const (
	ReservationReleased = "released"
	ReservationRedeemed = "redeemed"
	// ReservationExpired ends a hold whose time ran out when the same
	// order asks for a new one; a hold that simply runs out is expired
	// without being marked.
	ReservationExpired = "expired"
	// ReservationHeld is the status of a live hold.
	ReservationHeld = "held"
)

// Reservation holds one use of a coupon, and of each promotion it
// reaches, for an order while its customer pays. While it is held (not
// ended and not past ExpiresAt) the use counts against every limit, so
// the last use of a coupon cannot be sold twice; a redemption of the
// same code for the same order takes the held use, and a release or the
// end of its time frees it.
type Reservation struct {
	ID          int64 `gorm:"primaryKey"`
	CouponID    int64
	Code        string
	CustomerID  string
	OrderID     string
	Items       int
	OrderAmount *int64
	// Discount is what the held use would take off, nil without an
	// order amount.
	Discount  *int64
	CreatedAt time.Time
	ExpiresAt time.Time
	// EndedAt and Ended say when and how the hold ended: released,
	// redeemed, or expired (marked only when the same order asked for a
	// new hold after this one ran out).
	EndedAt      *time.Time
	Ended        string
	RedemptionID *int64
	Promotions   []ReservationPromotion `gorm:"-"`
}

// Status is the hold's state at now: held, released, redeemed or expired.
func (r Reservation) Status(now time.Time) string {
	switch {
	case r.Ended != "":
		return r.Ended
	case !now.Before(r.ExpiresAt):
		return ReservationExpired
	}
	return ReservationHeld
}

// ReservationPromotion is a promotion whose use a reservation holds.
type ReservationPromotion struct {
	ReservationID int64 `gorm:"primaryKey"`
	PromotionID   int64 `gorm:"primaryKey"`
	CouponID      int64
	OrderID       string
	CustomerID    string
	Discount      *int64
	ExpiresAt     time.Time
	Ended         bool
	// Name and the discount are the promotion's, read with the
	// reservation.
	Name          string `gorm:"-"`
	DiscountType  string `gorm:"-"`
	DiscountValue int64  `gorm:"-"`
}

// ReservationInput asks to hold a use of a code for an order. TTL is a
// Go duration ("90s", "15m"); "" means DefaultReservationTTL.
type ReservationInput struct {
	Code        string
	CustomerID  string
	OrderID     string
	Items       int
	OrderAmount *int64
	TTL         string
}

// Validate checks in as a redemption's fields and its TTL, and returns
// the redemption it would become and the TTL.
func (in ReservationInput) Validate() (RedemptionInput, time.Duration, error) {
	var verr ValidationError
	r, err := RedemptionInput{Code: in.Code, CustomerID: in.CustomerID, OrderID: in.OrderID, Items: in.Items, OrderAmount: in.OrderAmount}.Validate()
	if err != nil {
		verr.Merge(NoItem, asValidation(err))
	}
	ttl := DefaultReservationTTL
	if raw := strings.TrimSpace(in.TTL); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d < MinReservationTTL || d > MaxReservationTTL {
			verr.Add(FieldTTL, `must be a duration from 1s to 24h, such as "90s" or "15m" (15m when left out)`)
		}
		ttl = d
	}
	return r, ttl, verr.Err()
}
