package handlers

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// reachStore is what telling a form's reach needs.
type reachStore interface {
	PromotionsReaching(ctx context.Context, cs []models.Coupon) ([]models.Promotion, error)
	Coupon(ctx context.Context, code string) (models.Coupon, error)
}

// Reach answers the coupon and generation forms as their tags are
// typed: which active promotions codes with those tags (and, generating,
// the chosen promotion) would reach.
type Reach struct {
	Store reachStore
	Now   func() time.Time
}

// Show renders the reach of the form sent (utmSource, utmCampaign,
// promotionId, confirmReach, and the code of a coupon being edited).
func (h *Reach) Show(c echo.Context) error {
	v, err := formReach(c, h.Store, h.Now())
	if err != nil {
		return err
	}
	return Render(c, http.StatusOK, views.Reach(v))
}

// formReach is the reach of the form c sent: the promotions its codes
// would reach that are active and have not ended, each marked unmeant
// unless it is the form's chosen promotion or, on an edit, one the
// coupon reached already.
func formReach(c echo.Context, store reachStore, now time.Time) (views.ReachView, error) {
	editing := ""
	if c.FormValue(views.FieldEditing) == "true" {
		editing = c.FormValue(views.FieldCode)
	}
	return reachOf(c, store, reachForm{source: c.FormValue(views.FieldUTMSource), campaign: c.FormValue(views.FieldUTMCampaign),
		promotion: c.FormValue(views.FieldPromotionID), editing: editing, ticked: c.FormValue(views.FieldConfirmReach) == "true"}, now)
}

// reachForm is what a form's reach is told from: its tags and chosen
// promotion as typed, the code of the coupon being edited ("" for a new
// one), and the tick.
type reachForm struct {
	source, campaign, promotion, editing string
	ticked                               bool
}

// reachOf is the reach of f.
func reachOf(c echo.Context, store reachStore, f reachForm, now time.Time) (views.ReachView, error) {
	ctx := c.Request().Context()
	probe := models.Coupon{UTMSource: optional(f.source), UTMCampaign: optional(f.campaign)}
	meant := map[int64]bool{}
	if id, err := strconv.ParseInt(f.promotion, 10, 64); err == nil && id > 0 {
		probe.PromotionID = &id
		meant[id] = true
	}
	if f.editing != "" {
		before, err := store.Coupon(ctx, f.editing)
		if err != nil {
			return views.ReachView{}, err
		}
		ps, err := store.PromotionsReaching(ctx, []models.Coupon{before})
		if err != nil {
			return views.ReachView{}, err
		}
		for _, p := range ps {
			if p.Reaches(before) {
				meant[p.ID] = true
			}
		}
	}
	v := views.ReachView{Ticked: f.ticked}
	ps, err := store.PromotionsReaching(ctx, []models.Coupon{probe})
	if err != nil {
		return views.ReachView{}, err
	}
	t := TermsOf(c)
	for _, p := range ps {
		if p.Status != models.PromotionActive || !p.Reaches(probe) || p.DateReason(now) == models.ReasonExpired {
			continue
		}
		it := views.ReachItem{ID: p.ID, Name: p.Name, Discount: discountText(t, p.DiscountType, p.DiscountValue), When: "live now", Unmeant: !meant[p.ID]}
		if p.DiscountCap != nil {
			it.Discount += ", at most " + t.Amount(p.DiscountCap)
		}
		if p.BeginsAt != nil && now.Before(*p.BeginsAt) {
			it.When = "from " + t.Time(*p.BeginsAt)
		}
		v.Items = append(v.Items, it)
		v.Ask = v.Ask || it.Unmeant
	}
	return v, nil
}

// refuseUnmeant refuses a form that is otherwise valid (err nil) but was
// sent without the tick its reach asks for, noting why in v; any other
// err passes through.
func refuseUnmeant(v *views.ReachView, err error) error {
	if err != nil || !v.Ask || v.Ticked {
		return err
	}
	v.Error = reachRefused(*v)
	return models.Invalid(views.FieldConfirmReach, v.Error)
}

// reachRefused is the message of a form sent without the tick its reach
// asks for.
func reachRefused(v views.ReachView) string {
	var names []string
	for _, it := range v.Items {
		if it.Unmeant {
			names = append(names, it.Name)
		}
	}
	return "These codes would also give the discount of " + strings.Join(names, ", ") + ". Tick the box to confirm, or change their UTM tags."
}
