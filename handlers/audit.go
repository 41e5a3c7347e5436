package handlers

import (
	"context"
	"errors"
	"net/http"

	"github.com/coupond/coupond/models"
	"github.com/coupond/coupond/views"
	"github.com/labstack/echo/v4"
)

// AuditStore is what the audit log page needs.
type AuditStore interface {
	ListAudit(ctx context.Context, f models.AuditFilter) (models.AuditPage, error)
}

// Audit serves the audit log.
type Audit struct {
	Store AuditStore
}

// List shows one page of audit events, filtered; an htmx request aimed at
// the table gets only the table.
func (h *Audit) List(c echo.Context) error {
	q := c.QueryParams()
	v := views.AuditView{
		Actor: q.Get("actor"), Action: q.Get("action"), Entity: q.Get("entity"), From: q.Get("from"), To: q.Get("to"),
		Actions: models.AuditActions, Entities: models.AuditEntities, Errors: map[string]string{},
	}
	f := models.AuditFilter{Actor: v.Actor, Action: v.Action, Entity: v.Entity, Before: q.Get("before")}
	var err error
	if v.From != "" {
		if f.From, err = TermsOf(c).Day(v.From); err != nil {
			v.Errors["from"] = "must be a date like 2026-11-21"
		}
	}
	if v.To != "" {
		if f.To, err = TermsOf(c).Day(v.To); err != nil {
			v.Errors["to"] = "must be a date like 2026-11-21"
		}
		f.To = TermsOf(c).NextDay(f.To)
	}
	status := http.StatusOK
	if len(v.Errors) == 0 {
		res, err := h.Store.ListAudit(c.Request().Context(), f)
		var verr *models.ValidationError
		switch {
		case errors.As(err, &verr):
			v.Errors = formMessages(verr)
			status = http.StatusUnprocessableEntity
		case err != nil:
			return err
		}
		for _, e := range res.Events {
			v.Rows = append(v.Rows, views.AuditRow{At: TermsOf(c).Time(e.At), Actor: e.Actor, Action: e.Action, Entity: e.Entity, EntityID: e.EntityID, Summary: auditChange(TermsOf(c), e.Summary)})
		}
		if res.Next != "" {
			v.NextURL = auditURL(v, res.Next)
		}
	} else {
		status = http.StatusUnprocessableEntity
	}
	if f.Before != "" {
		v.FirstURL = auditURL(v, "")
	}
	if wantsFragment(c, views.AuditTableID) {
		return Render(c, status, views.AuditTable(v))
	}
	return Render(c, status, views.AuditPage(page(c, "Audit log", views.SectionAudit), v))
}

func auditURL(v views.AuditView, before string) string {
	return queryURL("/audit", map[string]string{"actor": v.Actor, "action": v.Action, "entity": v.Entity, "from": v.From, "to": v.To, "before": before})
}
