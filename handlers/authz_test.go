package handlers_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/web/webtest"
)

// consoleAccess is the expected status of a console route for an
// anonymous browser, a viewer, an editor and an admin.
type consoleAccess [4]int

// apiAccess is the expected status of an API route with no token, a read
// token and a modify token.
type apiAccess [3]int

// Every route of the server must be in one of these tables: a route added
// without a decision about who may use it fails TestAuthorizationMatrix.
var consoleMatrix = map[string]consoleAccess{
	"GET /login":                     {200, 303, 303, 303},
	"POST /login":                    {401, 401, 401, 401},
	"POST /logout":                   {303, 303, 303, 303},
	"GET /setup":                     {410, 410, 410, 410},
	"POST /setup":                    {410, 410, 410, 410},
	"GET /":                          {303, 200, 200, 200},
	"GET /coupons":                   {303, 200, 200, 200},
	"GET /coupons/new":               {303, 403, 200, 200},
	"POST /coupons":                  {303, 403, 422, 422},
	"GET /coupons/:code":             {303, 200, 200, 200},
	"POST /coupons/:code":            {303, 403, 303, 303},
	"GET /coupons/:code/edit":        {303, 403, 200, 200},
	"POST /coupons/:code/archive":    {303, 403, 303, 303},
	"POST /coupons/:code/unarchive":  {303, 403, 303, 303},
	"GET /redemptions":               {303, 200, 200, 200},
	"GET /redemptions.csv":           {303, 200, 200, 200},
	"GET /redemptions/:id/cancel":    {303, 403, 200, 200},
	"POST /redemptions/:id/cancel":   {303, 403, 303, 303},
	"GET /single-use":                {303, 403, 200, 200},
	"POST /single-use":               {303, 403, 422, 422},
	"GET /single-use/:code":          {303, 403, 200, 200},
	"GET /check":                     {303, 200, 200, 200},
	"GET /coupons/generate":          {303, 403, 200, 200},
	"POST /coupons/generate":         {303, 403, 422, 422},
	"POST /coupons/generate/preview": {303, 403, 200, 200},
	"POST /coupons/generate/reach":   {303, 403, 200, 200},
	"GET /batches":                   {303, 200, 200, 200},
	"GET /batches/:id":               {303, 200, 200, 200},
	"GET /batches/:id/progress":      {303, 200, 200, 200},
	"GET /batches/:id/cancel":        {303, 403, 200, 200},
	"POST /batches/:id/cancel":       {303, 403, 303, 303},
	"GET /batches/:id/codes.csv":     {303, 200, 200, 200},
	"GET /coupons.csv":               {303, 200, 200, 200},
	"GET /account":                   {303, 200, 200, 200},
	"POST /account/password":         {303, 422, 422, 422},
	"GET /audit":                     {303, 403, 200, 200},
	"GET /users":                     {303, 403, 403, 200},
	"POST /users":                    {303, 403, 403, 422},
	"POST /users/:id/role":           {303, 403, 403, 422},
	"GET /users/:id/disable":         {303, 403, 403, 200},
	"POST /users/:id/disable":        {303, 403, 403, 303},
	"POST /users/:id/enable":         {303, 403, 403, 303},
	"GET /tokens":                    {303, 403, 403, 200},
	"POST /tokens":                   {303, 403, 403, 422},
	"GET /tokens/:id/revoke":         {303, 403, 403, 200},
	"POST /tokens/:id/revoke":        {303, 403, 403, 303},
	"GET /promotions":                {303, 200, 200, 200},
	"GET /promotions/new":            {303, 403, 200, 200},
	"POST /promotions":               {303, 403, 422, 422},
	"POST /promotions/reach":         {303, 403, 200, 200},
	"GET /promotions/:id":            {303, 200, 200, 200},
	"POST /promotions/:id":           {303, 403, 422, 422},
	"GET /promotions/:id/edit":       {303, 403, 200, 200},
	"GET /promotions/:id/archive":    {303, 403, 200, 200},
	"POST /promotions/:id/archive":   {303, 403, 303, 303},
	"POST /promotions/:id/unarchive": {303, 403, 303, 303},
	"POST /promotions/:id/utm":       {303, 403, 422, 422},
	"GET /series":                    {303, 200, 200, 200},
	"GET /series/new":                {303, 403, 200, 200},
	"POST /series":                   {303, 403, 422, 422},
	"GET /series/:id":                {303, 200, 200, 200},
	"POST /series/:id":               {303, 403, 422, 422},
	"GET /series/:id/edit":           {303, 403, 200, 200},
	"GET /series/:id/codes.csv":      {303, 200, 200, 200},
	"GET /series/:id/archive":        {303, 403, 200, 200},
	"POST /series/:id/archive":       {303, 403, 303, 303},
	"POST /series/:id/unarchive":     {303, 403, 303, 303},
	"GET /issue":                     {303, 403, 200, 200},
	"POST /issue":                    {303, 403, 422, 422},
	"GET /customers":                 {303, 200, 200, 200},
	"GET /customers/:id":             {303, 200, 200, 200},
	"GET /imports":                   {303, 200, 200, 200},
	"GET /imports/new":               {303, 403, 200, 200},
	"POST /imports/preview":          {303, 403, 200, 200},
	"POST /imports":                  {303, 403, 422, 422},
	"GET /imports/:id":               {303, 200, 200, 200},
	"GET /imports/:id/progress":      {303, 200, 200, 200},
	"POST /imports/:id/cancel":       {303, 403, 303, 303},
	"GET /imports/:id/errors.csv":    {303, 200, 200, 200},
}

var apiMatrix = map[string]apiAccess{
	"POST /api/rnb/pvt/coupon":                 {401, 403, 400},
	"GET /api/rnb/pvt/coupon":                  {401, 200, 200},
	"GET /api/rnb/pvt/coupon/:code":            {401, 200, 200},
	"POST /api/rnb/pvt/multiple-coupons":       {401, 403, 400},
	"POST /api/rnb/pvt/coupons":                {401, 403, 400},
	"POST /api/rnb/pvt/archive/coupon/:code":   {401, 403, 200},
	"GET /api/rnb/pvt/archive/coupon/:code":    {401, 200, 200},
	"GET /api/rnb/pvt/coupon/usage/:code":      {401, 200, 200},
	"POST /api/rnb/pvt/unarchive/coupon/:code": {401, 403, 200},
	"GET /api/openapi.json":                    {200, 200, 200},
	"GET /api/docs":                            {200, 200, 200},
	"POST /api/promotions":                     {401, 403, 400},
	"GET /api/promotions":                      {401, 200, 200},
	"GET /api/promotions/:id":                  {401, 200, 200},
	"PUT /api/promotions/:id":                  {401, 403, 400},
	"POST /api/promotions/:id/archive":         {401, 403, 200},
	"POST /api/single-use-coupons":             {401, 403, 400},
	"GET /api/coupons/:code/validation":        {401, 200, 200},
	"POST /api/coupons":                        {401, 403, 400},
	"GET /api/coupons":                         {401, 200, 200},
	"GET /api/coupons/:code":                   {401, 200, 200},
	"PATCH /api/coupons/:code":                 {401, 403, 400},
	"POST /api/coupons/:code/archive":          {401, 403, 200},
	"POST /api/coupons/:code/unarchive":        {401, 403, 200},
	"POST /api/series":                         {401, 403, 400},
	"GET /api/series":                          {401, 200, 200},
	"GET /api/series/:id":                      {401, 200, 200},
	"PUT /api/series/:id":                      {401, 403, 400},
	"POST /api/series/:id/issues":              {401, 403, 400},
	"GET /api/series/:id/codes.csv":            {401, 200, 200},
	"POST /api/imports":                        {401, 403, 415},
	"POST /api/imports/preview":                {401, 415, 415},
	"GET /api/imports":                         {401, 200, 200},
	"GET /api/imports/:id":                     {401, 200, 200},
	"POST /api/imports/:id/cancel":             {401, 403, 200},
	"GET /api/imports/:id/errors.csv":          {401, 200, 200},
	"GET /api/customers/:ref":                  {401, 200, 200},
	"GET /api/customers/:ref/coupons":          {401, 200, 200},
	"GET /api/customers/:ref/redemptions":      {401, 200, 200},
	"POST /api/redemptions":                    {401, 403, 400},
	"POST /api/reservations":                   {401, 403, 400},
	"GET /api/reservations/:id":                {401, 200, 200},
	"DELETE /api/reservations/:id":             {401, 403, 200},
	"GET /api/redemptions/:id":                 {401, 200, 200},
	"GET /api/redemptions":                     {401, 200, 200},
	"GET /api/redemptions.csv":                 {401, 200, 200},
	"POST /api/redemptions/:id/cancel":         {401, 403, 200},
	"POST /api/batches":                        {401, 403, 400},
	"POST /api/batches/preview":                {401, 400, 400},
	"GET /api/batches":                         {401, 200, 200},
	"GET /api/batches/:id":                     {401, 200, 200},
	"POST /api/batches/:id/cancel":             {401, 403, 200},
	"GET /api/batches/:id/codes.csv":           {401, 200, 200},
	"GET /api/coupons.csv":                     {401, 200, 200},
	"POST /api/v3/promotions":                  {401, 403, 400},
	"GET /api/v3/promotions/:id":               {401, 200, 200},
	"POST /api/v3/promotions/:id/codegen":      {401, 403, 400},
	"GET /api/v3/promotions/:id/codes":         {401, 200, 200},
	"DELETE /api/v3/promotions/:id/codes":      {401, 403, 422},
	"POST /v2/coupon/series":                   {401, 403, 400},
	"PUT /v2/coupon/series/:id":                {401, 403, 400},
	"GET /v2/coupon/series":                    {401, 400, 400},
	"POST /v2/coupon/bulk/issue":               {401, 403, 400},
	"POST /v2/coupon/issue":                    {401, 403, 400},
	"GET /v2/coupon/is_redeemable":             {401, 400, 400},
	"POST /v2/coupon/redeem":                   {401, 403, 400},
}

// openRoutes need no identity at all.
var openRoutes = map[string]bool{"GET /healthz": true, "GET /readyz": true, "GET /static/*": true}

// effect is what a console write changes: reset puts its target back
// before each request (nil when the change cannot be undone and repeating
// it changes nothing more, or only the last client, the admin, may make
// it), and done reports whether the change is in the store.
type effect struct {
	reset func(t *testing.T)
	done  func(t *testing.T) bool
}

// writeEffects are the console writes the matrix sends that change state
// when allowed: the coupon MATRIX, the user target, the token whose
// secret is tokSecret, the promotion promo and the redemption
// redemption and the pending batch batch. The rest it sends are refused
// or fail validation.
func writeEffects(h *webtest.Harness, target int64, tokSecret string, promo models.Promotion, redemption, batch int64) map[string]effect {
	coupon := func(t *testing.T) models.Coupon {
		t.Helper()
		c, err := h.Store.Coupon(t.Context(), "MATRIX")
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	archive := func(archived bool) func(t *testing.T) {
		return func(t *testing.T) {
			t.Helper()
			if _, err := h.Store.SetCouponArchived(t.Context(), "MATRIX", archived); err != nil {
				t.Fatal(err)
			}
		}
	}
	user := func(t *testing.T) models.User {
		t.Helper()
		u, err := h.Store.User(t.Context(), target)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	disable := func(disabled bool) func(t *testing.T) {
		return func(t *testing.T) {
			t.Helper()
			if _, err := h.Store.SetUserDisabled(t.Context(), target, disabled); err != nil {
				t.Fatal(err)
			}
		}
	}
	return map[string]effect{
		"POST /coupons/:code/archive":   {reset: archive(false), done: func(t *testing.T) bool { return coupon(t).Archived }},
		"POST /coupons/:code/unarchive": {reset: archive(true), done: func(t *testing.T) bool { return !coupon(t).Archived }},
		// The empty form sets no maximum, so an allowed update clears it.
		"POST /coupons/:code": {
			reset: func(t *testing.T) {
				t.Helper()
				if _, _, err := h.Store.UpsertCoupon(t.Context(), models.CouponSpec{Code: "MATRIX", MaxUsage: 7}); err != nil {
					t.Fatal(err)
				}
			},
			done: func(t *testing.T) bool { return coupon(t).MaxUsage != 7 },
		},
		"POST /users/:id/disable": {reset: disable(false), done: func(t *testing.T) bool { return user(t).Disabled }},
		"POST /users/:id/enable":  {reset: disable(true), done: func(t *testing.T) bool { return !user(t).Disabled }},
		"POST /redemptions/:id/cancel": {done: func(t *testing.T) bool {
			t.Helper()
			r, err := h.Store.Redemption(t.Context(), redemption)
			if err != nil {
				t.Fatal(err)
			}
			return !r.Live()
		}},
		"POST /promotions/:id/archive": {
			reset: func(t *testing.T) {
				t.Helper()
				spec, err := models.PromotionInput{Name: promo.Name, DiscountType: promo.DiscountType, DiscountValue: "10", UTMSource: promo.UTMSource}.Validate()
				if err == nil {
					_, err = h.Store.UpdatePromotion(t.Context(), promo.ID, spec)
				}
				if err != nil {
					t.Fatal(err)
				}
			},
			done: func(t *testing.T) bool { return h.Promotion(promo.ID).Status == models.PromotionArchived },
		},
		"POST /batches/:id/cancel": {done: func(t *testing.T) bool {
			t.Helper()
			b, err := h.Store.Batch(t.Context(), batch)
			if err != nil {
				t.Fatal(err)
			}
			return b.Status == models.BatchCancelled
		}},
		"POST /tokens/:id/revoke": {done: func(t *testing.T) bool {
			t.Helper()
			_, err := h.Store.AuthenticateToken(t.Context(), tokSecret)
			if err != nil && !errors.Is(err, models.ErrUnauthenticated) {
				t.Fatal(err)
			}
			return err != nil
		}},
	}
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	webtest.ForEachDB(t, models.Config{}, func(t *testing.T, h *webtest.Harness) {
		ctx := t.Context()
		if _, err := h.Store.CreateCoupon(ctx, models.CouponSpec{Code: "MATRIX"}); err != nil {
			t.Fatal(err)
		}
		// No runner runs here, so the batch stays pending for its cancel.
		spec, err := models.BatchInput{Quantity: 2, Format: models.FormatInput{Prefix: "MB"}}.Validate(models.MaxBatchQuantity)
		if err != nil {
			t.Fatal(err)
		}
		batch, err := h.Store.CreateBatch(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		// The API's cancel gets a pending batch of its own, so that the
		// console's cancel does not depend on the order of the routes.
		apiBatch, err := h.Store.CreateBatch(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		apiImport, err := h.Store.CreateImport(ctx, models.ImportInput{File: strings.NewReader("code\nMATRIX-IMPORT\n")})
		if err != nil {
			t.Fatal(err)
		}
		target, err := h.Store.CreateUser(ctx, models.UserInput{Email: "target@example.com", Password: webtest.Password, Role: models.RoleViewer})
		if err != nil {
			t.Fatal(err)
		}
		tok, tokSecret, err := h.Store.CreateToken(ctx, "target", models.ScopeRead)
		if err != nil {
			t.Fatal(err)
		}
		seriesSpec, err := models.SeriesInput{Promotion: models.PromotionInput{Name: "Matrix series", DiscountType: models.DiscountFixed, DiscountValue: "100"}, UsesPerCode: 1}.Validate()
		if err != nil {
			t.Fatal(err)
		}
		series, err := h.Store.CreateSeries(ctx, seriesSpec)
		if err != nil {
			t.Fatal(err)
		}
		customer, _, err := h.Store.Issue(ctx, models.IssueRequest{SeriesIDs: []int64{series.ID()}, Customer: models.CustomerRef{ID: "matrix-customer"}})
		if err != nil {
			t.Fatal(err)
		}
		// Reading an archived coupon needs one that stays archived.
		if _, err := h.Store.CreateCoupon(ctx, models.CouponSpec{Code: "SHELVED", Archived: new(true)}); err != nil {
			t.Fatal(err)
		}
		source := "matrix"
		promo := h.MustPromotion(models.PromotionInput{Name: "Matrix", UTMSource: &source})
		if _, err := h.Store.CreateCoupon(ctx, models.CouponSpec{Code: "MREDEEM", UTMSource: new("matrix")}); err != nil {
			t.Fatal(err)
		}
		redemption, _, err := h.Store.Redeem(ctx, models.RedemptionInput{Code: "MREDEEM", CustomerID: "c", OrderID: "o", Items: 1}, "")
		if err != nil {
			t.Fatal(err)
		}
		hold, _, err := h.Store.Reserve(ctx, models.ReservationInput{Code: "MREDEEM", CustomerID: "h", OrderID: "held", Items: 1}, "")
		if err != nil {
			t.Fatal(err)
		}
		// The console's cancel button gets a redemption of its own, so
		// that the API's cancel does not decide what it finds.
		red := h.MustRedeem("MREDEEM", "console-customer", "console-order", 1, nil)
		effects := writeEffects(h, target.ID, tokSecret, promo, red.ID, batch.ID)
		fill := func(path string) string {
			r := strings.NewReplacer(":code", "MATRIX", "*", "vendor/htmx-2.0.11.min.js")
			path = r.Replace(path)
			switch {
			case strings.HasPrefix(path, "/batches/"):
				return strings.Replace(path, ":id", fmt.Sprint(batch.ID), 1)
			case strings.HasPrefix(path, "/users/"):
				return strings.Replace(path, ":id", fmt.Sprint(target.ID), 1)
			case strings.HasPrefix(path, "/tokens/"):
				return strings.Replace(path, ":id", fmt.Sprint(tok.ID), 1)
			case strings.HasPrefix(path, "/redemptions/"):
				return strings.Replace(path, ":id", fmt.Sprint(red.ID), 1)
			case strings.HasPrefix(path, "/api/imports/"), strings.HasPrefix(path, "/imports/"):
				return strings.Replace(path, ":id", fmt.Sprint(apiImport.ID), 1)
			case strings.HasPrefix(path, "/api/batches/"):
				return strings.Replace(path, ":id", fmt.Sprint(apiBatch.ID), 1)
			case strings.HasPrefix(path, "/api/promotions/"), strings.HasPrefix(path, "/api/v3/promotions/"), strings.HasPrefix(path, "/promotions/"):
				return strings.Replace(path, ":id", fmt.Sprint(promo.ID), 1)
			case strings.HasPrefix(path, "/series/"), strings.HasPrefix(path, "/v2/coupon/series/"), strings.HasPrefix(path, "/api/series/"):
				return strings.Replace(path, ":id", fmt.Sprint(series.ID()), 1)
			case strings.HasPrefix(path, "/customers/"):
				return strings.Replace(path, ":id", customer.ID, 1)
			case strings.HasPrefix(path, "/api/customers/"):
				return strings.Replace(path, ":ref", customer.ID, 1)
			case strings.HasPrefix(path, "/api/redemptions/"):
				return strings.Replace(path, ":id", fmt.Sprint(redemption.ID), 1)
			case strings.HasPrefix(path, "/api/reservations/"):
				return strings.Replace(path, ":id", fmt.Sprint(hold.ID), 1)
			}
			return path
		}

		seen := map[string]bool{}
		for _, rt := range h.E.Routes() {
			key := rt.Method + " " + rt.Path
			if seen[key] {
				continue
			}
			seen[key] = true
			path := fill(rt.Path)
			if key == "GET /api/rnb/pvt/archive/coupon/:code" {
				path = strings.Replace(rt.Path, ":code", "SHELVED", 1)
			}
			form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}
			t.Run(key, func(t *testing.T) {
				switch {
				case openRoutes[key]:
					if r := h.DoWith(webtest.NewClient(), rt.Method, path, nil, nil); r.Status != http.StatusOK {
						t.Errorf("anonymous: %d, want 200", r.Status)
					}
				case consoleMatrix[key] != consoleAccess{}:
					want := consoleMatrix[key]
					clients := []*http.Client{webtest.NewClient(), h.Login(webtest.ViewerEmail), h.Login(webtest.EditorEmail), h.Login(webtest.AdminEmail)}
					eff, changes := effects[key]
					for i, who := range []string{"anonymous", "viewer", "editor", "admin"} {
						if changes && eff.reset != nil {
							eff.reset(t)
						}
						r := h.DoWith(clients[i], rt.Method, path, strings.NewReader(""), form)
						if r.Status != want[i] {
							t.Errorf("%s: %d, want %d (%.120s)", who, r.Status, want[i], r.Body)
						}
						if changes {
							switch allowed, done := i > 0 && want[i] < 400, eff.done(t); {
							case allowed && !done:
								t.Errorf("%s: allowed, but the change did not happen", who)
							case !allowed && done:
								t.Errorf("%s: refused, but the change happened", who)
							}
						}
						if i == 0 && r.Status == http.StatusSeeOther && !strings.HasPrefix(r.Header.Get("Location"), "/login") && key != "GET /" {
							t.Errorf("anonymous was sent to %q, not the login page", r.Header.Get("Location"))
						}
					}
					// An API token opens no console page.
					if want[0] == http.StatusSeeOther {
						r := h.DoWith(webtest.NewClient(), rt.Method, path, nil, map[string]string{"X-Auth-Token": h.Token, "Sec-Fetch-Site": "same-origin"})
						if r.Status != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
							t.Errorf("with an API token only: %d to %q, want the login page", r.Status, r.Header.Get("Location"))
						}
					}
				case apiMatrix[key] != apiAccess{}:
					want := apiMatrix[key]
					for i, auth := range []map[string]string{nil, {"X-Auth-Token": h.ReadToken}, {"Authorization": "Bearer " + h.Token}} {
						r := h.APIWith(auth, rt.Method, path, "")
						if r.Status != want[i] {
							t.Errorf("%s: %d, want %d (%.120s)", []string{"no token", "read token", "modify token"}[i], r.Status, want[i], r.Body)
						}
					}
					// A console session opens no API route but the public ones
					// (the API's documentation).
					r := h.DoWith(h.Client, rt.Method, path, nil, nil)
					if r.Status != want[0] {
						t.Errorf("with an admin session only: %d, want %d", r.Status, want[0])
					}
				default:
					t.Errorf("route %s is in no authorization table: decide who may use it", key)
				}
			})
		}
		for key := range consoleMatrix {
			if !seen[key] {
				t.Errorf("the table names %s, which the server does not have", key)
			}
		}
		for key := range apiMatrix {
			if !seen[key] {
				t.Errorf("the table names %s, which the server does not have", key)
			}
		}
	})
}
