package handlers

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
	"golang.org/x/text/currency"
)

// TermsKey is where the console's middleware leaves the store's Terms
// for the request; TermsOf reads them.
const TermsKey = "terms"

// Terms are the store's own terms, in which the console speaks to a
// marketer: amounts in its currency with that currency's decimals, and
// times in its time zone. The store keeps minor units and UTC; every
// console page reads its input and writes its output through these
// methods, never with Money.Format or time.Format of its own.
//
// The zero value is US dollars and UTC, the defaults of coupond serve.
type Terms struct {
	currency string
	decimals int
	zone     *time.Location
}

// NewTerms' failures.
var (
	ErrUnknownCurrency = errors.New("not an ISO 4217 currency code such as USD, EUR or JPY")
	ErrUnknownZone     = errors.New("not an IANA time zone name such as UTC or Europe/Berlin")
)

// NewTerms returns the terms of a store that counts in the ISO 4217
// currency code (such as "EUR"; case does not matter) and lives in the
// IANA time zone (such as "Europe/Berlin"). The number of decimals comes
// from the currency's standard rounding in golang.org/x/text/currency:
// 2 for EUR, 0 for JPY, 3 for KWD. An unknown currency fails with
// ErrUnknownCurrency, an unknown zone with ErrUnknownZone, each wrapped
// with the value.
func NewTerms(code, zone string) (Terms, error) {
	unit, err := currency.ParseISO(strings.TrimSpace(code))
	if err != nil {
		return Terms{}, fmt.Errorf("currency %q: %w", code, ErrUnknownCurrency)
	}
	// An empty name would be UTC to LoadLocation, and "Local" the
	// machine's zone: neither is a zone a store is in by name.
	if strings.TrimSpace(zone) == "" || zone == "Local" {
		return Terms{}, fmt.Errorf("time zone %q: %w", zone, ErrUnknownZone)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return Terms{}, fmt.Errorf("time zone %q: %w", zone, ErrUnknownZone)
	}
	scale, _ := currency.Standard.Rounding(unit)
	return Terms{currency: unit.String(), decimals: scale, zone: loc}, nil
}

// TermsOf is the store's terms for a console request, as the middleware
// left them; the zero Terms (USD, UTC) when none are there.
func TermsOf(c echo.Context) Terms {
	t, _ := c.Get(TermsKey).(Terms)
	return t
}

// Currency is the ISO 4217 code the store counts in, e.g. "EUR".
func (t Terms) Currency() string {
	if t.currency == "" {
		return "USD"
	}
	return t.currency
}

// Decimals is how many digits the currency has after the point: 2 for
// EUR, 0 for JPY, 3 for KWD.
func (t Terms) Decimals() int {
	if t.currency == "" {
		return 2
	}
	return t.decimals
}

// Zone is the store's time zone.
func (t Terms) Zone() *time.Location {
	if t.zone == nil {
		return time.UTC
	}
	return t.zone
}

// ZoneName names the store's time zone for people, e.g. "Europe/Berlin".
func (t Terms) ZoneName() string { return t.Zone().String() }

// Money writes an amount of minor units in the store's currency, with
// its decimals, thousands separators and its code: "1,234.50 EUR",
// "1,500 JPY".
func (t Terms) Money(m models.Money) string {
	return t.Decimal(m) + " " + t.Currency()
}

// Decimal writes an amount as Money does, without the currency code:
// "1,234.50".
func (t Terms) Decimal(m models.Money) string {
	s := m.Format(t.Decimals())
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	whole, frac, dotted := strings.Cut(s, ".")
	s = sign + views.GroupDigits(whole)
	if dotted {
		s += "." + frac
	}
	return s
}

// Amount writes an optional amount as Money does; "" for none.
func (t Terms) Amount(a *int64) string {
	if a == nil {
		return ""
	}
	return t.Money(models.Money(*a))
}

// AmountInput writes an optional amount for a form's input, as
// ParseAmount reads it back: "20.50", no separators and no code; "" for
// none.
func (t Terms) AmountInput(a *int64) string {
	if a == nil {
		return ""
	}
	return models.Money(*a).Format(t.Decimals())
}

// Count writes a number of things with thousands separators: "100,000".
func (t Terms) Count(n int64) string { return views.Thousands(n) }

// ErrBadAmount is ParseAmount's failure: the text is not an amount in
// the store's currency.
var ErrBadAmount = errors.New("not an amount in the store's currency")

// ParseAmount reads an amount typed in the store's currency ("20",
// "20.5", "20.50" in EUR; "1500" in JPY) as minor units. More decimals
// than the currency has, a sign, separators or a too large amount fail
// with ErrBadAmount.
func (t Terms) ParseAmount(raw string) (models.Money, error) {
	m, err := models.ParseMoney(raw, t.Decimals())
	if err != nil {
		return 0, ErrBadAmount
	}
	return m, nil
}

// AmountMessage is the message beside a field that ParseAmount refused.
func (t Terms) AmountMessage() string {
	if t.Decimals() == 0 {
		return fmt.Sprintf("must be an amount in %s without decimals, such as %s", t.Currency(), t.amountExample())
	}
	return fmt.Sprintf("must be an amount in %s with at most %d decimals, such as %s", t.Currency(), t.Decimals(), t.amountExample())
}

// amountExample is an amount as a marketer would type it in the store's
// currency: "20.50", "1500", "20.500".
func (t Terms) amountExample() string {
	if t.Decimals() == 0 {
		return "1500"
	}
	return "20.5" + strings.Repeat("0", t.Decimals()-1)
}

// view is what pages say about the terms.
func (t Terms) view() views.Store {
	return views.Store{Currency: t.Currency(), Decimals: t.Decimals(), AmountExample: t.amountExample(),
		MoneyExample: t.Money(123450 * models.Money(pow10(t.Decimals()-2))), Zone: t.ZoneName()}
}

// FormAmount reads an optional amount from a form field in the store's
// currency, as ParseAmount does; blank is nil. A bad value, or one below
// the smallest unit when positive is set, is recorded in verr under
// field.
func (t Terms) FormAmount(verr *models.ValidationError, field, raw string, positive bool) *int64 {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	m, err := t.ParseAmount(raw)
	if err != nil {
		verr.Add(field, t.AmountMessage())
		return nil
	}
	if positive && m < 1 {
		verr.Add(field, "must be more than "+t.Money(0))
		return nil
	}
	return new(int64(m))
}

// Time and date layouts of the console.
const (
	timeLayout      = "2006-01-02 15:04:05"
	dateLayout      = "2006-01-02"
	inputLayout     = "2006-01-02T15:04"
	inputSecsLayout = "2006-01-02T15:04:05.999999999"
)

// Time writes an instant in the store's zone: "2026-03-29 03:30:00".
func (t Terms) Time(at time.Time) string { return at.In(t.Zone()).Format(timeLayout) }

// OptionalTime writes an optional instant as Time does; "" for none.
func (t Terms) OptionalTime(at *time.Time) string {
	if at == nil {
		return ""
	}
	return t.Time(*at)
}

// OptionalEnd writes an optional end as End does; "" for none.
func (t Terms) OptionalEnd(at *time.Time) string {
	if at == nil {
		return ""
	}
	return t.End(*at)
}

// Day reads a day typed as a date input sends it ("2026-03-29") as its
// first moment in the store's zone. The error is a message for the
// field.
func (t Terms) Day(raw string) (time.Time, error) {
	d, err := time.ParseInLocation(dateLayout, strings.TrimSpace(raw), t.Zone())
	if err != nil {
		return time.Time{}, errors.New("must be a date like 2026-11-21")
	}
	return d.UTC(), nil
}

// NextDay is the first moment of the store's day after the one at falls
// on: the end of a period that takes that day in, however long
// daylight saving made it.
func (t Terms) NextDay(at time.Time) time.Time {
	local := at.In(t.Zone())
	return time.Date(local.Year(), local.Month(), local.Day()+1, 0, 0, 0, 0, t.Zone()).UTC()
}

// Date writes the store's day an instant falls on: "2026-03-29".
func (t Terms) Date(at time.Time) string { return at.In(t.Zone()).Format(dateLayout) }

// End writes the end of a period, the first instant no longer in it:
// an end at the store's midnight is the whole day before, shown as its
// last second ("2026-01-31 23:59:59"), as ParseEnd reads a date alone;
// any other as Time does.
func (t Terms) End(at time.Time) string {
	local := at.In(t.Zone())
	if local.Hour() == 0 && local.Minute() == 0 && local.Second() == 0 && local.Nanosecond() == 0 {
		return local.Add(-time.Second).Format(timeLayout)
	}
	return local.Format(timeLayout)
}

// TimeInput writes an optional instant for a datetime-local input in the
// store's zone; seconds appear only when there are some, so that saving
// the form unchanged keeps the instant.
func (t Terms) TimeInput(at *time.Time) string {
	if at == nil {
		return ""
	}
	local := at.In(t.Zone())
	if local.Second() == 0 && local.Nanosecond() == 0 {
		return local.Format(inputLayout)
	}
	return local.Format(inputSecsLayout)
}

// ParseTime reads an optional instant typed in the store's zone: a date
// and time as a datetime-local input sends it ("2026-03-29T03:30", with
// or without seconds), a date alone (its first moment), or an instant
// with its offset ("2026-03-29T01:30:00Z"). A local time that a
// daylight-saving change skips is moved forward by the change. Blank is
// nil; the error is a message for the field.
func (t Terms) ParseTime(raw string) (*time.Time, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	at, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		for _, layout := range []string{"2006-01-02T15:04:05.999999999", inputLayout, dateLayout} {
			if at, err = time.ParseInLocation(layout, raw, t.Zone()); err == nil {
				break
			}
		}
	}
	if err != nil || at.Year() < 1970 || at.Year() > 9999 {
		return nil, fmt.Errorf("must be a date such as 2026-12-24 or a date and time such as 2026-12-24T18:00, in %s time", t.ZoneName())
	}
	at = at.UTC()
	return &at, nil
}

// ParseEnd reads an optional end as ParseTime does, except that a date
// alone takes in that whole day in the store's zone: "2026-01-31" ends at
// the store's midnight that starts 1 February, so the period still holds
// 23:59:59 on the 31st, whatever length a daylight-saving change gave
// the day.
func (t Terms) ParseEnd(raw string) (*time.Time, error) {
	at, err := t.ParseTime(raw)
	if err != nil || at == nil || len(strings.TrimSpace(raw)) != len(dateLayout) {
		return at, err
	}
	end := t.NextDay(*at)
	if end.Year() > 9999 {
		return nil, models.ErrEndTooLate
	}
	return &end, nil
}

// instantText writes an optional instant as the domain reads it (RFC
// 3339 in UTC), for handing what ParseTime read to a models input that
// takes text; "" for none.
func instantText(at *time.Time) string {
	if at == nil {
		return ""
	}
	return at.UTC().Format(time.RFC3339Nano)
}

// formTime reads an optional time field with parse (ParseTime or
// ParseEnd) and returns it as instantText; a bad value is recorded in
// verr under field and gives "".
func formTime(verr *models.ValidationError, field, raw string, parse func(string) (*time.Time, error)) string {
	at, err := parse(raw)
	if err != nil {
		verr.Add(field, err.Error())
		return ""
	}
	return instantText(at)
}

// itoa64 writes a count of minor units for a models input that takes
// text.
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// pow10 is 10 to the n, and 1 for n below 0.
func pow10(n int) int64 {
	p := int64(1)
	for range n {
		p *= 10
	}
	return p
}
