package models

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Kinds of batch.
const (
	BatchGenerate = "generate"
	BatchImport   = "import"
)

// Columns of an import file, as the header names them; a header is
// matched ignoring case, spaces, '_' and '-', and a few other names are
// taken too (importAliases).
const (
	ImportCode              = "code"
	ImportMaxUsage          = "maxUsage"
	ImportMaxUsagePerClient = "maxUsagePerClient"
	ImportUTMSource         = "utmSource"
	ImportUTMCampaign       = "utmCampaign"
	ImportPromotionID       = "promotionId"
	ImportCustomerID        = "customerId"
	ImportValidUntil        = "validUntil"
)

// ImportColumns lists every column an import file may have; only code
// is required.
var ImportColumns = []string{ImportCode, ImportMaxUsage, ImportMaxUsagePerClient, ImportUTMSource, ImportUTMCampaign, ImportPromotionID, ImportCustomerID, ImportValidUntil}

// importAliases maps a header, folded (foldHeader), to its column.
var importAliases = map[string]string{
	"code": ImportCode, "couponcode": ImportCode, "coupon": ImportCode,
	"maxusage": ImportMaxUsage, "maxuses": ImportMaxUsage, "uses": ImportMaxUsage,
	"maxusageperclient": ImportMaxUsagePerClient, "maxusagepercustomer": ImportMaxUsagePerClient, "maxusespercustomer": ImportMaxUsagePerClient,
	"utmsource": ImportUTMSource, "utmcampaign": ImportUTMCampaign,
	"promotionid": ImportPromotionID, "promotion": ImportPromotionID,
	"customerid": ImportCustomerID, "customer": ImportCustomerID,
	"validuntil": ImportValidUntil, "validtill": ImportValidUntil, "expiresat": ImportValidUntil, "expires": ImportValidUntil,
}

// FieldFile is the field of an import's file in errors.
const FieldFile = "file"

// MaxImportRows bounds the rows of one import, as MaxBatchQuantity bounds
// a batch.
const MaxImportRows = MaxBatchQuantity

// DefaultImportMaxUsage is the uses of an imported code whose row gives
// none: a code a customer holds is usually good once.
const DefaultImportMaxUsage = 1

// ImportRow is one line of an import file, read: the coupon it makes, or
// Problem, why it cannot be imported.
type ImportRow struct {
	Line              int
	Code              string
	MaxUsage          int
	MaxUsagePerClient int
	UTMSource         *string
	UTMCampaign       *string
	PromotionID       *int64
	CustomerID        *string
	ValidUntil        *time.Time
	Problem           string
}

// ImportReader reads an import file, CSV with a header naming its
// columns, one row at a time, in constant memory.
type ImportReader struct {
	r    *csv.Reader
	zone *time.Location
	cols []string
	// names are the columns as the file's header writes them: a row's
	// problem names its column so.
	names []string
}

// foldHeader is h as importAliases keys it: lower case, without spaces,
// '_', '-' or a byte-order mark.
func foldHeader(h string) string {
	var b strings.Builder
	for _, r := range strings.TrimPrefix(h, "\ufeff") {
		if r == '_' || r == '-' || unicode.IsSpace(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// NewImportReader reads the header of an import file whose dates are
// days of zone (nil for UTC). It fails with a *ValidationError on
// FieldFile for an empty file, a malformed header, a column it does not
// know, one named twice or no code column.
func NewImportReader(r io.Reader, zone *time.Location) (*ImportReader, error) {
	if zone == nil {
		zone = time.UTC
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	switch {
	case errors.Is(err, io.EOF):
		return nil, Invalid(FieldFile, "is empty: its first line names the columns, such as code,maxUsage,utmSource")
	case err != nil:
		return nil, Invalid(FieldFile, "the header line cannot be read as CSV: "+csvProblem(err))
	}
	var verr ValidationError
	ir := &ImportReader{r: cr, zone: zone, cols: make([]string, len(header)), names: make([]string, len(header))}
	seen := map[string]int{}
	for i, h := range header {
		col, ok := importAliases[foldHeader(h)]
		switch {
		case strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) == "":
			verr.Add(FieldFile, fmt.Sprintf("column %d of the header has no name; name every column (%s)", i+1, strings.Join(ImportColumns, ", ")))
		case !ok:
			verr.Add(FieldFile, fmt.Sprintf("column %d of the header, %q, is not one coupond imports; the columns are %s", i+1, h, strings.Join(ImportColumns, ", ")))
		case seen[col] > 0:
			verr.Add(FieldFile, fmt.Sprintf("columns %d and %d of the header both name %s", seen[col], i+1, col))
		default:
			seen[col] = i + 1
			ir.cols[i] = col
			ir.names[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		}
	}
	if seen[ImportCode] == 0 && verr.Err() == nil {
		verr.Add(FieldFile, "has no code column: its header must name one, such as code,maxUsage,utmSource")
	}
	if err := verr.Err(); err != nil {
		return nil, err
	}
	return ir, nil
}

// csvProblem is a CSV parse error in words, without the line, which the
// caller tells.
func csvProblem(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Next reads the next row: io.EOF after the last. A row that cannot be
// imported says why in its Problem; only a file that is not CSV from
// that line on fails, with a *ValidationError naming the line.
func (ir *ImportReader) Next() (ImportRow, error) {
	rec, err := ir.r.Read()
	if errors.Is(err, io.EOF) {
		return ImportRow{}, io.EOF
	}
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		return ImportRow{}, Invalid(FieldFile, fmt.Sprintf("line %d cannot be read as CSV (%s); nothing was imported", pe.StartLine, csvProblem(err)))
	case err != nil:
		// The file itself could not be read (the client went away, the
		// body was too large): no fault of its lines.
		return ImportRow{}, fmt.Errorf("read the file: %w", err)
	}
	line, _ := ir.r.FieldPos(0)
	row := ImportRow{Line: line, MaxUsage: DefaultImportMaxUsage}
	var problems []string
	var name string
	bad := func(msg string) { problems = append(problems, name+": "+msg) }
	if len(rec) != len(ir.cols) {
		problems = append(problems, fmt.Sprintf("has %d fields; the header names %d", len(rec), len(ir.cols)))
	}
	whole := func(v string, min int64) (int64, bool) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < min || n > 1<<31-1 {
			bad(fmt.Sprintf("must be a whole number from %d, not %q", min, v))
			return 0, false
		}
		return n, true
	}
	for i, v := range rec {
		if i >= len(ir.cols) {
			break
		}
		v = strings.TrimSpace(v)
		col := ir.cols[i]
		name = ir.names[i]
		if v == "" && col != ImportCode {
			continue
		}
		switch col {
		case ImportCode:
			code, err := NormalizeCode(v)
			if err != nil {
				bad(err.Error())
				// As written, for the report.
				code = v
			}
			row.Code = code
		case ImportMaxUsage:
			if n, ok := whole(v, 0); ok {
				row.MaxUsage = int(n)
			}
		case ImportMaxUsagePerClient:
			if n, ok := whole(v, 0); ok {
				row.MaxUsagePerClient = int(n)
			}
		case ImportUTMSource, ImportUTMCampaign:
			tag, err := normalizeUTM(&v)
			if err != nil {
				bad(err.Error())
			}
			if col == ImportUTMSource {
				row.UTMSource = tag
			} else {
				row.UTMCampaign = tag
			}
		case ImportPromotionID:
			if n, ok := whole(v, 1); ok {
				row.PromotionID = &n
			}
		case ImportCustomerID:
			if msg := checkID(v, MaxCustomerIDLength, false); msg != "" {
				bad(msg)
			} else {
				row.CustomerID = &v
			}
		case ImportValidUntil:
			// A day takes in the whole day, in the file's zone.
			t, err := parseEndIn(v, ir.zone)
			if err != nil {
				bad(err.Error())
			} else {
				row.ValidUntil = t
			}
		}
	}
	row.Problem = strings.Join(problems, "; ")
	return row, nil
}
