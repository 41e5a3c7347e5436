package handlers

import "testing"

// The audit page words what events wrote as key=value, old and new alike:
// labels, money in the store's currency, times in its zone, limits of 0
// unlimited; text in words keeps its words, with times in the zone.
func TestAuditChangeInAMarketersWords(t *testing.T) {
	t.Parallel()
	terms, err := NewTerms("EUR", "Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ summary, want string }{
		{`code=NEWS-01RL9GLX customer=cust-11 order=o-11 items=2 promotions=1 amount=11700 discount=1170`,
			`code NEWS-01RL9GLX, customer cust-11, order o-11, items 2, promotions 1, order amount 117.00 EUR, discount 11.70 EUR`},
		{`code=SUMMER10 customer=cust-3 order=o-3 items=1 promotions=1 redeemedAt=2026-03-29T00:30:00Z`,
			`code SUMMER10, customer cust-3, order o-3, items 1, promotions 1, recorded as of 2026-03-29 01:30:00`},
		{`name="Welcome \"series\"" status=active kind=series discount=50000 fixed cap=— begins=— ends=2027-05-08T22:59:59Z maxUsage=0 maxUsagePerClient=0 utmSource=— utmCampaign=—`,
			`name Welcome "series", status active, kind series, discount 500.00 EUR, discount cap none, starts none, ends 2027-05-09 00:59:59, max uses unlimited, max uses per customer unlimited, UTM source none, UTM campaign none`},
		{`name="Spring" status=active kind=regular discount=10 percent cap=1500 begins=— ends=— maxUsage=10000 maxUsagePerClient=1 utmSource=news utmCampaign=—`,
			`name Spring, status active, kind regular, discount 10 %, discount cap 15.00 EUR, starts none, ends none, max uses 10,000, max uses per customer 1, UTM source news, UTM campaign none`},
		{`series discountCode="WELCOME" expiry=series days=0 format={"length":10} maxCreate=10000 maxPerCustomer=1 usesPerCode=1`,
			`series: discount code WELCOME, codes end with the series, days 0, code format 10 random upper-case letters and digits, max codes issued 10,000, max codes per customer 1, uses per code 1`},
		{`name="checkout" scope=modify`, `name checkout, scope modify`},
		{`ends — → 2027-01-31T22:59:59Z, max uses 0 → 5`, `ends — → 2027-01-31 23:59:59, max uses 0 → 5`},
		{`UTM source newsletter, UTM campaign —, max uses 1, archived no`, `UTM source newsletter, UTM campaign —, max uses 1, archived no`},
		{`signed in`, `signed in`},
	} {
		if got := auditChange(terms, tc.summary); got != tc.want {
			t.Errorf("auditChange(%s)\n got %s\nwant %s", tc.summary, got, tc.want)
		}
	}
}
