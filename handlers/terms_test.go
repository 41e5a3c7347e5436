package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coupond/coupond/handlers"
	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/models/storetest"
	"github.com/coupond/coupond/views"
	"github.com/coupond/coupond/web"
	"github.com/coupond/coupond/web/webtest"
	"golang.org/x/crypto/bcrypt"
)

// withTerms runs fn against a server on each database whose store counts
// in currency and lives in zone.
func withTerms(t *testing.T, currency, zone string, fn func(t *testing.T, h *webtest.Harness)) {
	t.Helper()
	terms, err := handlers.NewTerms(currency, zone)
	if err != nil {
		t.Fatal(err)
	}
	webtest.ForEachDBWith(t, web.Config{BodyLimit: "64K", Terms: terms}, fn)
}

func TestNewTermsDecimalsFromTheCurrency(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]int{"USD": 2, "EUR": 2, "JPY": 0, "KWD": 3, "BHD": 3, "eur": 2} {
		terms, err := handlers.NewTerms(code, "UTC")
		if err != nil || terms.Decimals() != want || terms.Currency() != strings.ToUpper(code) {
			t.Errorf("NewTerms(%q) = %s with %d decimals, %v; want %d decimals", code, terms.Currency(), terms.Decimals(), err, want)
		}
	}
	for _, tc := range []struct{ currency, zone string }{{"EURO", "UTC"}, {"", "UTC"}, {"USD", "Mars/Olympus"}, {"USD", ""}, {"USD", "Local"}} {
		if _, err := handlers.NewTerms(tc.currency, tc.zone); err == nil {
			t.Errorf("NewTerms(%q, %q) accepted", tc.currency, tc.zone)
		}
	}
}

func TestTermsFormatAmountsAndCounts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		currency string
		amount   models.Money
		want     string
	}{
		{"USD", 0, "0.00 USD"},
		{"USD", 5, "0.05 USD"},
		{"EUR", 2000, "20.00 EUR"},
		{"EUR", 123456789, "1,234,567.89 EUR"},
		{"JPY", 1500, "1,500 JPY"},
		{"JPY", 999, "999 JPY"},
		{"KWD", 1234567, "1,234.567 KWD"},
		{"BHD", 5, "0.005 BHD"},
	} {
		terms, err := handlers.NewTerms(tc.currency, "UTC")
		if err != nil {
			t.Fatal(err)
		}
		if got := terms.Money(tc.amount); got != tc.want {
			t.Errorf("%s Money(%d) = %q, want %q", tc.currency, tc.amount, got, tc.want)
		}
	}
	if got := (handlers.Terms{}).Count(100000); got != "100,000" {
		t.Errorf("Count(100000) = %q", got)
	}
}

// TestConsoleAmountsInAZeroDecimalCurrency: in yen a fixed discount is
// typed and shown in whole yen, grouped, and a decimal is refused beside
// its field and shown back as typed.
func TestConsoleAmountsInAZeroDecimalCurrency(t *testing.T) {
	t.Parallel()
	withTerms(t, "JPY", "Asia/Tokyo", func(t *testing.T, h *webtest.Harness) {
		form := validPromotionForm()
		form.Set("discountType", "fixed")
		form.Set("discountValue", "1500")
		form.Set("discountCap", "")
		r := h.Post("/promotions", form, nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("create: %d %.300s", r.Status, r.Body)
		}
		id := createdPromotion(t, r.Header.Get("Location"))
		if p := h.Promotion(id); p.DiscountValue != 1500 {
			t.Errorf("stored %d yen, want 1500", p.DiscountValue)
		}
		page := h.Do("GET", views.PromotionURL(id), nil, nil)
		if got := testID(page.Body, "discount"); got != "1,500 JPY off" {
			t.Errorf("page discount = %q, want 1,500 JPY off", got)
		}
		edit := formValues(t, h.Do("GET", views.PromotionURL(id)+"/edit", nil, nil).Body, views.PromotionFormID)
		if got := edit.Get("discountValue"); got != "1500" {
			t.Errorf("edit form discountValue = %q, want 1500", got)
		}

		form.Set("discountValue", "1500.5")
		r = h.Post("/promotions", form, nil)
		msg, marked := fieldError(r.Body, "discountValue")
		if r.Status != http.StatusUnprocessableEntity || !marked || msg != "must be an amount in JPY without decimals, such as 1500" {
			t.Errorf("1500.5 yen: %d, beside the field %q (marked %v)", r.Status, msg, marked)
		}
		if !strings.Contains(r.Body, `name="discountValue" value="1500.5"`) {
			t.Error("the refused amount is not shown back as typed")
		}
		if !strings.Contains(r.Body, "In JPY, such as 1500.") {
			t.Error("the form does not say amounts are typed in JPY")
		}
	})
}

// TestConsoleAmountsInAThreeDecimalCurrency: in Kuwaiti dinars a cap has
// three decimals in the form, on the page and in "Check a code"; a
// fourth is refused.
func TestConsoleAmountsInAThreeDecimalCurrency(t *testing.T) {
	t.Parallel()
	withTerms(t, "KWD", "Asia/Kuwait", func(t *testing.T, h *webtest.Harness) {
		form := validPromotionForm()
		form.Set("discountType", "percent")
		form.Set("discountValue", "10")
		form.Set("discountCap", "2.125")
		form.Set("beginsAt", "")
		form.Set("endsAt", "")
		r := h.Post("/promotions", form, nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("create: %d %.300s", r.Status, r.Body)
		}
		id := createdPromotion(t, r.Header.Get("Location"))
		if p := h.Promotion(id); p.DiscountCap == nil || *p.DiscountCap != 2125 {
			t.Fatalf("stored cap %v, want 2125 fils", p.DiscountCap)
		}
		if got := testID(h.Do("GET", views.PromotionURL(id), nil, nil).Body, "cap"); got != "2.125 KWD" {
			t.Errorf("page cap = %q, want 2.125 KWD", got)
		}
		edit := formValues(t, h.Do("GET", views.PromotionURL(id)+"/edit", nil, nil).Body, views.PromotionFormID)
		if got := edit.Get("discountCap"); got != "2.125" {
			t.Errorf("edit form discountCap = %q, want 2.125", got)
		}

		h.MustTaggedCoupon("DINAR1", "newsletter", "")
		q := url.Values{"couponCode": {"DINAR1"}, "items": {"1"}, "orderAmount": {"12345.678"}}
		check := h.Do("GET", "/check?"+q.Encode(), nil, nil)
		if !strings.Contains(check.Body, "Discount on an order of 12,345.678 KWD: <strong>2.125 KWD</strong>") {
			t.Errorf("check a code does not show the discount in dinars: %s", testID(check.Body, "discount"))
		}
		q.Set("orderAmount", "1.0005")
		check = h.Do("GET", "/check?"+q.Encode(), nil, nil)
		if msg, _ := fieldError(check.Body, "orderAmount"); check.Status != http.StatusUnprocessableEntity || msg != "must be an amount in KWD with at most 3 decimals, such as 20.500" {
			t.Errorf("an order of 1.0005 KWD: %d, %q", check.Status, msg)
		}

		form.Set("discountCap", "2.1255")
		r = h.Post("/promotions", form, nil)
		if msg, marked := fieldError(r.Body, "discountCap"); r.Status != http.StatusUnprocessableEntity || !marked || !strings.Contains(msg, "at most 3 decimals") {
			t.Errorf("a cap of 2.1255 KWD: %d, %q", r.Status, msg)
		}
	})
}

// TestConsoleGroupsThousands: counts and amounts carry thousands
// separators.
func TestConsoleGroupsThousands(t *testing.T) {
	t.Parallel()
	withTerms(t, "EUR", "Europe/Berlin", func(t *testing.T, h *webtest.Harness) {
		tag := "big"
		p := h.MustPromotion(models.PromotionInput{Name: "Big", UTMSource: &tag, MaxUsage: 100000})
		h.MustTaggedCoupon("BIG1", tag, "")
		h.MustRedeem("BIG1", "cust-1", "order-1", 1200, new(int64(123456789)))
		if got := testID(h.Do("GET", views.PromotionURL(p.ID), nil, nil).Body, "uses"); got != "1 / 100,000" {
			t.Errorf("uses = %q, want 1 / 100,000", got)
		}
		list := h.Do("GET", views.RedemptionsURL, nil, nil).Body
		for _, want := range []string{"<td>1,234,567.89 EUR</td>", "<td>1,200</td>"} {
			if !strings.Contains(list, want) {
				t.Errorf("the redemptions list lacks %s", want)
			}
		}
	})
}

// TestConsoleTimesAcrossDaylightSaving: in Berlin, times are typed and
// shown in local time on both sides of the changes of 29 March and 25
// October 2026, and a day alone as an end takes in the whole local day,
// 23 hours long in March and 25 in October.
func TestConsoleTimesAcrossDaylightSaving(t *testing.T) {
	t.Parallel()
	withTerms(t, "EUR", "Europe/Berlin", func(t *testing.T, h *webtest.Harness) {
		for _, tc := range []struct {
			name, begins, ends     string
			wantBegins, wantEnds   time.Time
			showBegins, showEnds   string
			inputBegins, inputEnds string
		}{
			{name: "spring, summer time", begins: "2026-03-29T03:30", ends: "2026-03-29",
				wantBegins: time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), wantEnds: time.Date(2026, 3, 29, 22, 0, 0, 0, time.UTC),
				showBegins: "2026-03-29 03:30:00", showEnds: "2026-03-29 23:59:59", inputBegins: "2026-03-29T03:30", inputEnds: "2026-03-30T00:00"},
			{name: "spring, winter time", begins: "2026-03-28T03:30", ends: "2026-03-29T01:59",
				wantBegins: time.Date(2026, 3, 28, 2, 30, 0, 0, time.UTC), wantEnds: time.Date(2026, 3, 29, 0, 59, 0, 0, time.UTC),
				showBegins: "2026-03-28 03:30:00", showEnds: "2026-03-29 01:59:00", inputBegins: "2026-03-28T03:30", inputEnds: "2026-03-29T01:59"},
			{name: "autumn", begins: "2026-10-24T12:00", ends: "2026-10-25",
				wantBegins: time.Date(2026, 10, 24, 10, 0, 0, 0, time.UTC), wantEnds: time.Date(2026, 10, 25, 23, 0, 0, 0, time.UTC),
				showBegins: "2026-10-24 12:00:00", showEnds: "2026-10-25 23:59:59", inputBegins: "2026-10-24T12:00", inputEnds: "2026-10-26T00:00"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				form := validPromotionForm()
				form.Set("name", tc.name)
				form.Set("beginsAt", tc.begins)
				form.Set("endsAt", tc.ends)
				r := h.Post("/promotions", form, nil)
				if r.Status != http.StatusSeeOther {
					t.Fatalf("create: %d %.300s", r.Status, r.Body)
				}
				id := createdPromotion(t, r.Header.Get("Location"))
				p := h.Promotion(id)
				if p.BeginsAt == nil || !p.BeginsAt.Equal(tc.wantBegins) || p.EndsAt == nil || !p.EndsAt.Equal(tc.wantEnds) {
					t.Fatalf("stored %v to %v, want %v to %v", p.BeginsAt, p.EndsAt, tc.wantBegins, tc.wantEnds)
				}
				page := h.Do("GET", views.PromotionURL(id), nil, nil).Body
				if got := testID(page, "beginsAt"); got != tc.showBegins {
					t.Errorf("page begins %q, want %q", got, tc.showBegins)
				}
				if got := testID(page, "endsAt"); got != tc.showEnds {
					t.Errorf("page ends %q, want %q", got, tc.showEnds)
				}
				if got := testID(page, "store-terms"); !strings.Contains(got, "Europe/Berlin") {
					t.Errorf("the page does not name the zone: %q", got)
				}
				edit := formValues(t, h.Do("GET", views.PromotionURL(id)+"/edit", nil, nil).Body, views.PromotionFormID)
				if edit.Get("beginsAt") != tc.inputBegins || edit.Get("endsAt") != tc.inputEnds {
					t.Errorf("edit form %q to %q, want %q to %q", edit.Get("beginsAt"), edit.Get("endsAt"), tc.inputBegins, tc.inputEnds)
				}
				if r := h.Post(views.PromotionURL(id), edit, nil); r.Status != http.StatusSeeOther {
					t.Fatalf("saving unchanged: %d", r.Status)
				}
				if q := h.Promotion(id); !q.BeginsAt.Equal(tc.wantBegins) || !q.EndsAt.Equal(tc.wantEnds) {
					t.Errorf("saving the form unchanged moved it to %v – %v", q.BeginsAt, q.EndsAt)
				}
			})
		}
	})
}

// TestConsoleEndDateEndsAtTheEndOfTheLocalDay: "ends 31 January" in
// Berlin is live at 23:59:59 that evening and not a second later, for a
// promotion, a single-use coupon and a series.
func TestConsoleEndDateEndsAtTheEndOfTheLocalDay(t *testing.T) {
	t.Parallel()
	withTerms(t, "EUR", "Europe/Berlin", func(t *testing.T, h *webtest.Harness) {
		lastSecond := time.Date(2027, 1, 31, 23, 59, 59, 0, time.FixedZone("CET", 3600))
		form := validPromotionForm()
		form.Set("endsAt", "2027-01-31")
		r := h.Post("/promotions", form, nil)
		if r.Status != http.StatusSeeOther {
			t.Fatalf("create: %d %.300s", r.Status, r.Body)
		}
		p := h.Promotion(createdPromotion(t, r.Header.Get("Location")))
		if !p.Live(lastSecond) || p.Live(lastSecond.Add(time.Second)) {
			t.Errorf("a promotion ending 2027-01-31 ends at %v, want 2027-02-01 00:00 in Berlin", p.EndsAt)
		}

		single := url.Values{"couponCode": {"JAN31"}, "discountType": {"percent"}, "discountValue": {"10"}, "endsAt": {"2027-01-31"}}
		if r := h.Post("/single-use", single, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("single-use: %d %.300s", r.Status, r.Body)
		}
		ps, err := h.Store.CouponPromotions(t.Context(), h.MustCoupon("JAN31"))
		if err != nil || len(ps) != 1 {
			t.Fatalf("JAN31 reaches %d promotions, %v", len(ps), err)
		}
		if !ps[0].Live(lastSecond) || ps[0].Live(lastSecond.Add(time.Second)) {
			t.Errorf("a single-use coupon ending 2027-01-31 ends at %v", ps[0].EndsAt)
		}
		if page := h.Do("GET", "/single-use/JAN31", nil, nil).Body; !strings.Contains(page, ", until 2027-01-31 23:59:59<") {
			t.Error("the single-use page does not say it lasts until 2027-01-31 23:59:59")
		}

		series := validSeriesForm()
		series.Set("endsAt", "2027-01-31")
		if r := h.Post("/series", series, nil); r.Status != http.StatusSeeOther {
			t.Fatalf("series: %d %.300s", r.Status, r.Body)
		}
		list := h.Do("GET", "/series", nil, nil).Body
		if !strings.Contains(list, "2027-01-31 23:59:59") {
			t.Error("the series list does not show the series ending at 2027-01-31 23:59:59")
		}
	})
}

// TestConsoleRedemptionDaysAreTheStoreDays: the console's period filter
// reads days in the store's zone; the API's stays in UTC.
func TestConsoleRedemptionDaysAreTheStoreDays(t *testing.T) {
	t.Parallel()
	terms, err := handlers.NewTerms("EUR", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	storetest.Dialects(t, func(t *testing.T, dialect string) {
		// The coupon is made three days ago, before the redemption's time.
		clock := webtest.NewClock(time.Now().Add(-72 * time.Hour))
		s := storetest.Open(t, dialect, models.Config{Now: clock.Now, PasswordCost: bcrypt.MinCost})
		h := webtest.New(t, s, web.Config{BodyLimit: "64K", Terms: terms})
		tag := "late"
		h.MustPromotion(models.PromotionInput{Name: "Late", UTMSource: &tag})
		h.MustTaggedCoupon("LATE1", tag, "")
		clock.Advance(72 * time.Hour)
		// 23:30 UTC two days ago is already the next day in Berlin.
		utcDay := time.Now().UTC().AddDate(0, 0, -2).Truncate(24 * time.Hour)
		at := utcDay.Add(23*time.Hour + 30*time.Minute)
		if _, created, err := h.Store.Redeem(t.Context(), models.RedemptionInput{Code: "LATE1", CustomerID: "c", OrderID: "late-order", Items: 1, At: at}, "test"); err != nil || !created {
			t.Fatalf("redeem: %v", err)
		}
		berlinDay := at.In(mustZone(t, "Europe/Berlin")).Format(time.DateOnly)
		listed := func(path, day string) bool {
			r := h.Do("GET", path+"?"+url.Values{"from": {day}, "to": {day}}.Encode(), nil, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("%s for %s: %d", path, day, r.Status)
			}
			return strings.Contains(r.Body, "late-order")
		}
		if !listed(views.RedemptionsURL, berlinDay) || listed(views.RedemptionsURL, utcDay.Format(time.DateOnly)) {
			t.Errorf("the console lists a redemption at %s under the wrong Berlin day (want %s)", at, berlinDay)
		}
		if !strings.Contains(h.Do("GET", views.RedemptionsURL, nil, nil).Body, ">"+at.In(mustZone(t, "Europe/Berlin")).Format("2006-01-02 15:04:05")+"<") {
			t.Error("the redemption's time is not shown in Berlin time")
		}
		api := func(day string) string {
			return h.API("GET", "/api/redemptions?"+url.Values{"from": {day}, "to": {day}}.Encode(), "").Body
		}
		if !strings.Contains(api(utcDay.Format(time.DateOnly)), "late-order") || strings.Contains(api(berlinDay), "late-order") {
			t.Error("the API must read days in UTC")
		}
	})
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestAccountShowsTheStoreTerms: the account page says the currency, its
// decimals and the time zone.
func TestAccountShowsTheStoreTerms(t *testing.T) {
	t.Parallel()
	withTerms(t, "BHD", "America/New_York", func(t *testing.T, h *webtest.Harness) {
		page := h.Do("GET", "/account", nil, nil).Body
		if got := testID(page, "store-currency"); got != "BHD, with 3 decimals: amounts look like 1,234.500 BHD" {
			t.Errorf("account currency = %q", got)
		}
		if got := testID(page, "store-zone"); !strings.HasPrefix(got, "America/New_York") {
			t.Errorf("account zone = %q", got)
		}
	})
}

// TestConsoleNeverSaysMinorUnitsOrUTC: no page of a Berlin store speaks
// of minor units or of UTC.
func TestConsoleNeverSaysMinorUnitsOrUTC(t *testing.T) {
	t.Parallel()
	withTerms(t, "EUR", "Europe/Berlin", func(t *testing.T, h *webtest.Harness) {
		tag := "spring"
		p := h.MustPromotion(models.PromotionInput{Name: "Spring", UTMSource: &tag, DiscountType: models.DiscountFixed, DiscountValue: "500", EndsAt: "2027-01-01T00:00:00Z"})
		h.MustTaggedCoupon("SPRING1", tag, "")
		h.MustRedeem("SPRING1", "c", "o", 1, new(int64(5000)))
		bad := regexp.MustCompile(`(?i)minor|\bUTC\b`)
		for _, path := range []string{"/coupons", "/coupons/SPRING1", "/promotions", views.PromotionURL(p.ID), views.PromotionURL(p.ID) + "/edit", "/promotions/new",
			views.RedemptionsURL, "/single-use", "/check", "/check?couponCode=SPRING1&orderAmount=50", "/series/new", "/series", "/batches", "/customers",
			"/audit", "/users", "/tokens", "/account", "/coupons/generate"} {
			r := h.Do("GET", path, nil, nil)
			if r.Status != http.StatusOK {
				t.Errorf("%s: %d", path, r.Status)
				continue
			}
			if m := bad.FindString(r.Body); m != "" {
				i := strings.Index(r.Body, m)
				t.Errorf("%s says %q: …%s…", path, m, r.Body[max(0, i-80):min(len(r.Body), i+40)])
			}
		}
	})
}

// A last day of 9999-12-31 ends in the year 10000 in UTC west of
// Greenwich, which no time is written in: the console refuses it with a
// message there and takes the day before; east of it, the end is still
// in 9999 and is taken.
func TestTermsRefuseALastDayEndingPastTheYear9999(t *testing.T) {
	t.Parallel()
	newYork, err := handlers.NewTerms("EUR", "America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	if at, err := newYork.ParseEnd("9999-12-31"); err == nil || !strings.Contains(err.Error(), "leave it empty") {
		t.Errorf("New York: ParseEnd(9999-12-31) = %v, %v; want an error", at, err)
	}
	if at, err := newYork.ParseEnd("9999-12-30"); err != nil || at == nil || !at.Equal(time.Date(9999, 12, 31, 5, 0, 0, 0, time.UTC)) {
		t.Errorf("New York: ParseEnd(9999-12-30) = %v, %v", at, err)
	}
	tokyo, err := handlers.NewTerms("EUR", "Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	if at, err := tokyo.ParseEnd("9999-12-31"); err != nil || at == nil || !at.Equal(time.Date(9999, 12, 31, 15, 0, 0, 0, time.UTC)) {
		t.Errorf("Tokyo: ParseEnd(9999-12-31) = %v, %v", at, err)
	}
}
