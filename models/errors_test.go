package models_test

import (
	"fmt"
	"testing"

	"github.com/coupond/coupond/models"
)

// The first message for a field stands, also for an error built as a
// literal, and a list of many bad elements keeps one message per element.
func TestValidationErrorKeepsTheFirstMessagePerField(t *testing.T) {
	t.Parallel()
	verr := models.Invalid(models.FieldCode, "first")
	verr.Add(models.FieldCode, "second")
	verr.AddItem(0, models.FieldCode, "of item 0")
	verr.Merge(models.NoItem, models.Invalid(models.FieldCode, "merged"))
	if got := fmt.Sprint(verr.Errors); got != "[{-1 code first} {0 code of item 0}]" {
		t.Errorf("errors = %s", got)
	}
	var many models.ValidationError
	for i := range 50_000 {
		many.AddItem(i, models.FieldQuantity, "is required")
		many.AddItem(i, models.FieldQuantity, "again")
	}
	if len(many.Errors) != 50_000 || many.Errors[49_999].Message != "is required" {
		t.Errorf("%d errors, last %+v; want one per element, the first message", len(many.Errors), many.Errors[len(many.Errors)-1])
	}
}
