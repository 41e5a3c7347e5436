package api

import (
	"context"
	"net/http"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// ReservationStore is what reservations need from the store.
type ReservationStore interface {
	Reserve(ctx context.Context, in models.ReservationInput, client string) (models.Reservation, bool, error)
	Reservation(ctx context.Context, id int64) (models.Reservation, error)
	ReleaseReservation(ctx context.Context, id int64) (models.Reservation, error)
}

// Reservations serves holds of a coupon's use while a customer pays, in
// the native JSON API under /api.
type Reservations struct {
	Store ReservationStore
	// Now is the clock a hold's status is judged by.
	Now func() time.Time
}

// reservationIn is a hold as a client asks for it: the redemption it
// holds a use for, and how long.
type reservationIn struct {
	redemptionIn
	TTL string `json:"ttl"`
}

// reservationOut is a hold as the API answers it.
type reservationOut struct {
	ID           int64        `json:"id"`
	Code         string       `json:"code"`
	CustomerID   string       `json:"customerId"`
	OrderID      string       `json:"orderId"`
	Items        int          `json:"items"`
	OrderAmount  *int64       `json:"orderAmount,omitempty"`
	Discount     *int64       `json:"discount,omitempty"`
	Promotions   []appliedOut `json:"promotions"`
	Status       string       `json:"status"`
	CreatedAt    time.Time    `json:"createdAt"`
	ExpiresAt    time.Time    `json:"expiresAt"`
	EndedAt      *time.Time   `json:"endedAt,omitempty"`
	RedemptionID *int64       `json:"redemptionId,omitempty"`
}

func (h *Reservations) json(r models.Reservation) reservationOut {
	out := reservationOut{ID: r.ID, Code: r.Code, CustomerID: r.CustomerID, OrderID: r.OrderID, Items: r.Items, OrderAmount: r.OrderAmount,
		Discount: r.Discount, Promotions: []appliedOut{}, Status: r.Status(h.Now()), CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
		EndedAt: utcPtr(r.EndedAt), RedemptionID: r.RedemptionID}
	for _, rp := range r.Promotions {
		out.Promotions = append(out.Promotions, appliedOf(rp.PromotionID, rp.Name, rp.DiscountType, rp.DiscountValue, rp.Discount))
	}
	return out
}

// Create holds one use of a code for an order: 201 with the hold; 200
// with the same hold when the same code and order ask again while it
// lasts; 409 with the reasons a redemption would give when the code
// cannot be held; 422 naming a bad field (ttl among them).
func (h *Reservations) Create(c echo.Context) error {
	var in reservationIn
	if err := httpx.DecodeJSON(c, &in); err != nil {
		return err
	}
	r, created, err := h.Store.Reserve(c.Request().Context(), models.ReservationInput{Code: in.Code, CustomerID: in.CustomerID,
		OrderID: in.OrderID, Items: in.Items, OrderAmount: in.OrderAmount, TTL: in.TTL}, c.RealIP())
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, h.json(r))
}

// Get returns one hold with its status; 404 for an unknown id.
func (h *Reservations) Get(c echo.Context) error {
	id, err := httpx.PathID(c, "reservation")
	if err != nil {
		return err
	}
	r, err := h.Store.Reservation(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.json(r))
}

// Release ends a hold, freeing its use: 200 with the hold, released; a
// hold that has already ended (released, redeemed or run out) is answered
// as it is. 404 for an unknown id.
func (h *Reservations) Release(c echo.Context) error {
	id, err := httpx.PathID(c, "reservation")
	if err != nil {
		return err
	}
	r, err := h.Store.ReleaseReservation(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, h.json(r))
}
