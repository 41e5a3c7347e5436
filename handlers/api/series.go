package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coupond/coupond/handlers/httpx"
	"github.com/coupond/coupond/models"
	"github.com/labstack/echo/v4"
)

// SeriesStore is what the native series API needs from the store.
type SeriesStore interface {
	CreateSeries(ctx context.Context, spec models.SeriesSpec) (models.Series, error)
	UpdateSeries(ctx context.Context, id int64, spec models.SeriesSpec) (models.Series, error)
	Series(ctx context.Context, id int64) (models.Series, error)
	ListSeries(ctx context.Context, f models.SeriesFilter) (models.SeriesPage, error)
	Issue(ctx context.Context, req models.IssueRequest) (models.Customer, []models.IssueResult, error)
	EachSeriesCode(ctx context.Context, seriesID int64, fn func(models.IssuedCode) error) error
	ActivePromotions(ctx context.Context) ([]models.Promotion, error)
}

// SeriesAPI serves series of personal codes and their issue to customers
// in the native JSON API.
type SeriesAPI struct {
	Store SeriesStore
	// Now is the clock of the exports' states.
	Now func() time.Time
}

// seriesIn is a series as a client sends it: its promotion's fields
// (without kind and tags: a series' codes belong to it) and how its codes
// are made, expire and are limited.
type seriesIn struct {
	Name              string             `json:"name"`
	Description       string             `json:"description"`
	Status            string             `json:"status"`
	DiscountType      string             `json:"discountType"`
	DiscountValue     json.RawMessage    `json:"discountValue"`
	DiscountCap       *int64             `json:"discountCap"`
	AppliesTo         string             `json:"appliesTo"`
	BeginsAt          *string            `json:"beginsAt"`
	EndsAt            *string            `json:"endsAt"`
	MaxUsage          int                `json:"maxUsage"`
	MaxUsagePerClient int                `json:"maxUsagePerClient"`
	DiscountCode      string             `json:"discountCode"`
	Expiry            string             `json:"expiry"`
	ExpiryDays        int                `json:"expiryDays"`
	Format            models.FormatInput `json:"format"`
	MaxCreate         int                `json:"maxCreate"`
	MaxPerCustomer    int                `json:"maxPerCustomer"`
	UsesPerCode       int                `json:"usesPerCode"`
}

var seriesInFields = []string{"name", "description", "status", "discountType", "discountValue", "discountCap", "appliesTo", "beginsAt", "endsAt",
	"maxUsage", "maxUsagePerClient", "discountCode", "expiry", "expiryDays", "format", "maxCreate", "maxPerCustomer", "usesPerCode"}

func (in seriesIn) spec() (models.SeriesSpec, error) {
	var verr models.ValidationError
	value := httpx.RawNumber(&verr, models.FieldDiscountValue, in.DiscountValue)
	spec, err := models.SeriesInput{
		Promotion: models.PromotionInput{Name: in.Name, Description: in.Description, Status: in.Status, DiscountType: in.DiscountType,
			DiscountValue: value, DiscountCap: in.DiscountCap, AppliesTo: in.AppliesTo, BeginsAt: httpx.Deref(in.BeginsAt), EndsAt: httpx.Deref(in.EndsAt),
			MaxUsage: in.MaxUsage, MaxUsagePerClient: in.MaxUsagePerClient},
		DiscountCode: in.DiscountCode, Expiry: in.Expiry, ExpiryDays: in.ExpiryDays, Format: in.Format,
		MaxCreate: in.MaxCreate, MaxPerCustomer: in.MaxPerCustomer, UsesPerCode: in.UsesPerCode,
	}.Validate()
	httpx.MergeInvalid(&verr, err)
	if err := verr.Err(); err != nil {
		return models.SeriesSpec{}, err
	}
	return spec, nil
}

// seriesOut is a series as the API answers it: its promotion, with the
// series' own fields beside.
type seriesOut struct {
	promotionOut
	DiscountCode   string          `json:"discountCode"`
	Expiry         string          `json:"expiry"`
	ExpiryDays     int             `json:"expiryDays"`
	Format         json.RawMessage `json:"format"`
	MaxCreate      int             `json:"maxCreate"`
	MaxPerCustomer int             `json:"maxPerCustomer"`
	UsesPerCode    int             `json:"usesPerCode"`
	Issued         int             `json:"issued"`
}

func seriesJSON(s models.Series) seriesOut {
	format := json.RawMessage(s.Format)
	if !json.Valid(format) {
		format = json.RawMessage("{}")
	}
	return seriesOut{promotionOut: promotionJSON(s.Promotion), DiscountCode: s.DiscountCode, Expiry: s.Expiry, ExpiryDays: s.ExpiryDays,
		Format: format, MaxCreate: s.MaxCreate, MaxPerCustomer: s.MaxPerCustomer, UsesPerCode: s.UsesPerCode, Issued: s.Issued}
}

type seriesList struct {
	Series []seriesOut `json:"series"`
	Next   string      `json:"next,omitempty"`
}

// Create stores a new series: 201 with it.
func (h *SeriesAPI) Create(c echo.Context) error {
	var in seriesIn
	if err := strictJSON(c, &in, seriesInFields, "a series"); err != nil {
		return err
	}
	spec, err := in.spec()
	if err != nil {
		return err
	}
	s, err := h.Store.CreateSeries(c.Request().Context(), spec)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, seriesJSON(s))
}

// Get returns one series; 404 for an unknown id.
func (h *SeriesAPI) Get(c echo.Context) error {
	id, err := httpx.PathID(c, "series")
	if err != nil {
		return err
	}
	s, err := h.Store.Series(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, seriesJSON(s))
}

// Update replaces every field of a series: 200 with it.
func (h *SeriesAPI) Update(c echo.Context) error {
	id, err := httpx.PathID(c, "series")
	if err != nil {
		return err
	}
	var in seriesIn
	if err := strictJSON(c, &in, seriesInFields, "a series"); err != nil {
		return err
	}
	spec, err := in.spec()
	if err != nil {
		return err
	}
	s, err := h.Store.UpdateSeries(c.Request().Context(), id, spec)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, seriesJSON(s))
}

// List returns a page of series, newest first, filtered by status and by
// a part of the name; limit and after page.
func (h *SeriesAPI) List(c echo.Context) error {
	var verr models.ValidationError
	f := models.SeriesFilter{Status: c.QueryParam("status"), Name: c.QueryParam("name"), After: c.QueryParam("after"),
		Limit: httpx.QueryInt(c, &verr, models.FieldLimit)}
	if err := verr.Err(); err != nil {
		return err
	}
	page, err := h.Store.ListSeries(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := seriesList{Series: make([]seriesOut, 0, len(page.Series)), Next: page.Next}
	for _, s := range page.Series {
		out.Series = append(out.Series, seriesJSON(s))
	}
	return c.JSON(http.StatusOK, out)
}

// issueIn names the customer a code is issued to, by any of their
// identifiers, and where the request comes from (kept with the issue).
type issueIn struct {
	Customer struct {
		ID         string `json:"id"`
		Mobile     string `json:"mobile"`
		Email      string `json:"email"`
		ExternalID string `json:"externalId"`
	} `json:"customer"`
	Source string `json:"source"`
}

// issueOut is what one series gave: the code, or why not.
type issueOut struct {
	SeriesID  int64      `json:"seriesId"`
	Code      string     `json:"code,omitempty"`
	IssuedAt  *time.Time `json:"issuedAt,omitempty"`
	ValidTill *time.Time `json:"validTill,omitempty"`
	Reason    string     `json:"reason,omitempty"`
	Message   string     `json:"message,omitempty"`
	// Limit and Held say which limit a MAX_CREATE or CUSTOMER_LIMIT
	// refusal reached and what counts against it.
	Limit int `json:"limit,omitempty"`
	Held  int `json:"held,omitempty"`
}

type issueList struct {
	Customer customerOut `json:"customer"`
	Issues   []issueOut  `json:"issues"`
}

// Issue hands the customer one fresh code of each series the path names
// ("3", or "3,4" for several): 201 when every series gave one, 200 when
// some did (each refusal with its reason), 409 not_issued with the
// reasons when none did. The customer is created when no customer has
// any of the identifiers given.
func (h *SeriesAPI) Issue(c echo.Context) error {
	var verr models.ValidationError
	var ids []int64
	for part := range strings.SplitSeq(c.Param("id"), ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
		if err != nil || id < 1 {
			verr.Add(models.FieldSeries, "the path must name series by their ids, such as 3 or 3,4; "+strconv.Quote(part)+" is not one")
			continue
		}
		ids = append(ids, id)
	}
	if err := verr.Err(); err != nil {
		return err
	}
	var in issueIn
	if err := httpx.DecodeJSON(c, &in); err != nil {
		return err
	}
	cu, results, err := h.Store.Issue(c.Request().Context(), models.IssueRequest{SeriesIDs: ids, Source: in.Source,
		Customer: models.CustomerRef{ID: in.Customer.ID, Mobile: in.Customer.Mobile, Email: in.Customer.Email, ExternalID: in.Customer.ExternalID}})
	if err != nil {
		return err
	}
	out := issueList{Customer: customerJSON(cu), Issues: make([]issueOut, 0, len(results))}
	issued := 0
	var reasons, messages []string
	for _, r := range results {
		o := issueOut{SeriesID: r.SeriesID, Reason: r.Reason, Message: r.Message, Limit: r.Limit, Held: r.Held}
		if r.Coupon != nil {
			issued++
			o.Code = r.Coupon.Code
			if r.Issuance != nil {
				o.IssuedAt = new(r.Issuance.IssuedAt.UTC())
			}
			if r.Series != nil {
				o.ValidTill = utcPtr(r.Coupon.ValidTill(r.Series.Promotion))
			}
		} else {
			reasons, messages = append(reasons, r.Reason), append(messages, r.Message)
		}
		out.Issues = append(out.Issues, o)
	}
	switch {
	case issued == 0:
		return &models.NotIssuedError{Reasons: reasons, Messages: messages}
	case issued < len(results):
		return c.JSON(http.StatusOK, out)
	}
	return c.JSON(http.StatusCreated, out)
}

// Codes streams every code the series has issued as CSV, in the columns
// of GET /api/coupons.csv; 404 for an unknown series.
func (h *SeriesAPI) Codes(c echo.Context) error {
	id, err := httpx.PathID(c, "series")
	if err != nil {
		return err
	}
	return httpx.SeriesCSV(c, h.Store, id, httpx.APIExportTerms, h.Now())
}
