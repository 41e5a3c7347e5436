package models

import (
	"bufio"
	"cmp"
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// Sorting an import file by code. An import's rows are imported in the
// order of their codes, whatever order the file has them in: the indexes
// on the coupons' codes then take each chunk a few pages at a time, as
// they take a generated batch's, instead of a page a row. The upload
// sorts the file's good rows in memory bounded by sortRun rows, whatever
// the file's length: runs of sortRun rows are sorted in memory and, past
// the first, written to temporary files (about as much disk as the file
// takes), which are then merged, at most mergeFanIn at a time (a file is
// unlinked as soon as it is made, so that nothing stays behind whatever
// happens). The sorted rows are kept in the database as blobs of
// importChunk rows (import_chunks), which the runner reads one at a time.

// sortRun is how many rows the upload sorts in memory at once.
const sortRun = 50_000

// compareImportRows orders rows by code, case-folded as CodeKey folds
// it, then by line: of two rows with one code the earlier line comes
// first, and is the one imported. The codes are checked ones
// (NormalizeCode): ASCII, trimmed.
func compareImportRows(a, b *ImportRow) int {
	return cmp.Or(compareFolded(a.Code, b.Code), cmp.Compare(a.Line, b.Line))
}

// compareFolded compares two ASCII strings as strings.ToLower would have
// them, without making them.
func compareFolded(a, b string) int {
	for i := range min(len(a), len(b)) {
		x, y := lowerASCII(a[i]), lowerASCII(b[i])
		if x != y {
			return cmp.Compare(x, y)
		}
	}
	return cmp.Compare(len(a), len(b))
}

// Flags of the optional fields of an encoded row.
const (
	hasSource byte = 1 << iota
	hasCampaign
	hasPromotion
	hasCustomer
	hasValidUntil
)

// appendImportRow appends r, less its problem, to buf as a record:
// its length, then its fields.
func appendImportRow(buf []byte, r *ImportRow) ([]byte, error) {
	var flags byte
	var until []byte
	if r.UTMSource != nil {
		flags |= hasSource
	}
	if r.UTMCampaign != nil {
		flags |= hasCampaign
	}
	if r.PromotionID != nil {
		flags |= hasPromotion
	}
	if r.CustomerID != nil {
		flags |= hasCustomer
	}
	if r.ValidUntil != nil {
		var err error
		if until, err = r.ValidUntil.MarshalBinary(); err != nil {
			return nil, fmt.Errorf("line %d: %w", r.Line, err)
		}
		flags |= hasValidUntil
	}
	// The record is written apart first, its length going before it;
	// most fit in scratch, which stays on the stack.
	var scratch [128]byte
	rec := binary.AppendUvarint(scratch[:0], uint64(r.Line))
	rec = appendString(rec, r.Code)
	rec = binary.AppendVarint(rec, int64(r.MaxUsage))
	rec = binary.AppendVarint(rec, int64(r.MaxUsagePerClient))
	rec = append(rec, flags)
	if r.UTMSource != nil {
		rec = appendString(rec, *r.UTMSource)
	}
	if r.UTMCampaign != nil {
		rec = appendString(rec, *r.UTMCampaign)
	}
	if r.PromotionID != nil {
		rec = binary.AppendVarint(rec, *r.PromotionID)
	}
	if r.CustomerID != nil {
		rec = appendString(rec, *r.CustomerID)
	}
	if until != nil {
		rec = appendString(rec, string(until))
	}
	buf = binary.AppendUvarint(buf, uint64(len(rec)))
	return append(buf, rec...), nil
}

func appendString(buf []byte, s string) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

// errBadRecord is a stored or spooled row that cannot be read back.
var errBadRecord = errors.New("a stored import row cannot be read")

// recordReader reads the fields of one record.
type recordReader struct {
	b   []byte
	err error
}

func (d *recordReader) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err, d.b = errBadRecord, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordReader) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err, d.b = errBadRecord, nil
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *recordReader) string() string {
	n := d.uvarint()
	if uint64(len(d.b)) < n {
		d.err, d.b = errBadRecord, nil
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// readImportRow reads the record rec.
func readImportRow(rec []byte) (ImportRow, error) {
	d := recordReader{b: rec}
	var r ImportRow
	r.Line = int(d.uvarint())
	r.Code = d.string()
	r.MaxUsage = int(d.varint())
	r.MaxUsagePerClient = int(d.varint())
	if len(d.b) == 0 {
		return ImportRow{}, errBadRecord
	}
	flags := d.b[0]
	d.b = d.b[1:]
	if flags&hasSource != 0 {
		r.UTMSource = new(d.string())
	}
	if flags&hasCampaign != 0 {
		r.UTMCampaign = new(d.string())
	}
	if flags&hasPromotion != 0 {
		r.PromotionID = new(d.varint())
	}
	if flags&hasCustomer != 0 {
		r.CustomerID = new(d.string())
	}
	if flags&hasValidUntil != 0 {
		var t time.Time
		if err := t.UnmarshalBinary([]byte(d.string())); err != nil {
			return ImportRow{}, errBadRecord
		}
		r.ValidUntil = &t
	}
	if d.err != nil || len(d.b) != 0 {
		return ImportRow{}, errBadRecord
	}
	return r, nil
}

// readImportRows reads every record of blob, a chunk as the upload
// stored it.
func readImportRows(blob []byte) ([]ImportRow, error) {
	var rows []ImportRow
	for len(blob) > 0 {
		n, w := binary.Uvarint(blob)
		if w <= 0 || uint64(len(blob)-w) < n {
			return nil, errBadRecord
		}
		r, err := readImportRow(blob[w : w+int(n)])
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
		blob = blob[w+int(n):]
	}
	return rows, nil
}

// importSorter sorts rows by compareImportRows, holding at most run of
// them in memory.
type importSorter struct {
	// run is how many rows it sorts in memory at once.
	run int
	mem []ImportRow
	// order is mem's places in sorted order: sorting it moves four
	// bytes a row rather than a whole row.
	order []int32
	runs  []*os.File
}

// add takes r, spilling a sorted run to a temporary file when sortRun
// rows are held.
func (s *importSorter) add(r ImportRow) error {
	if s.mem == nil {
		s.mem = make([]ImportRow, 0, min(s.run, 4096))
	}
	s.mem = append(s.mem, r)
	if len(s.mem) < s.run {
		return nil
	}
	return s.spill()
}

// sort fills order with mem's places in sorted order.
func (s *importSorter) sort() {
	s.order = s.order[:0]
	for i := range s.mem {
		s.order = append(s.order, int32(i))
	}
	slices.SortFunc(s.order, func(a, b int32) int { return compareImportRows(&s.mem[a], &s.mem[b]) })
}

func (s *importSorter) spill() error {
	s.sort()
	f, err := newRun()
	if err != nil {
		return err
	}
	s.runs = append(s.runs, f)
	w := bufio.NewWriterSize(f, 64<<10)
	var buf []byte
	for _, i := range s.order {
		if buf, err = appendImportRow(buf[:0], &s.mem[i]); err != nil {
			return err
		}
		if _, err := w.Write(buf); err != nil {
			return fmt.Errorf("sort the file's rows: %w", err)
		}
	}
	if err := endRun(f, w); err != nil {
		return err
	}
	clear(s.mem)
	s.mem = s.mem[:0]
	return nil
}

// newRun makes a temporary file for a sorted run. Gone from its
// directory at once, the file lives while it is open: a process that
// dies leaves nothing behind.
func newRun() (*os.File, error) {
	f, err := os.CreateTemp("", "coupond-import-*")
	if err != nil {
		return nil, fmt.Errorf("sort the file's rows: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("sort the file's rows: %w", err)
	}
	return f, nil
}

// endRun flushes w, a run's writer, and rewinds its file f for reading.
func endRun(f *os.File, w *bufio.Writer) error {
	if err := w.Flush(); err != nil {
		return fmt.Errorf("sort the file's rows: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("sort the file's rows: %w", err)
	}
	return nil
}

// close closes the sorter's temporary files, which frees them.
func (s *importSorter) close() {
	for _, f := range s.runs {
		f.Close()
	}
	s.runs = nil
}

// mergeFanIn is how many runs one merge reads at once: a file of the
// largest size (MaxImportRows) makes 200 runs, which are merged 64 at a
// time into longer ones first, so that an upload holds at most 64 files
// open and 64 read buffers.
const mergeFanIn = 64

// each calls fn with every row taken, in order.
func (s *importSorter) each(fn func(*ImportRow) error) error {
	if len(s.runs) == 0 {
		s.sort()
		for _, i := range s.order {
			if err := fn(&s.mem[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if len(s.mem) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	s.mem, s.order = nil, nil
	for len(s.runs) > mergeFanIn {
		f, err := newRun()
		if err != nil {
			return err
		}
		w := bufio.NewWriterSize(f, 64<<10)
		var buf []byte
		err = mergeRuns(s.runs[:mergeFanIn], func(r *ImportRow) error {
			var err error
			if buf, err = appendImportRow(buf[:0], r); err == nil {
				_, err = w.Write(buf)
			}
			return err
		})
		if err == nil {
			err = endRun(f, w)
		}
		for _, done := range s.runs[:mergeFanIn] {
			done.Close()
		}
		s.runs = append(s.runs[mergeFanIn:], f)
		if err != nil {
			return err
		}
	}
	return mergeRuns(s.runs, fn)
}

// mergeRuns calls fn with every row of runs, in order.
func mergeRuns(runs []*os.File, fn func(*ImportRow) error) error {
	var h runHeap
	for _, f := range runs {
		r := &runReader{r: bufio.NewReaderSize(f, 32<<10)}
		ok, err := r.next()
		if err != nil {
			return err
		}
		if ok {
			h = append(h, r)
		}
	}
	heap.Init(&h)
	for len(h) > 0 {
		top := h[0]
		if err := fn(&top.row); err != nil {
			return err
		}
		ok, err := top.next()
		switch {
		case err != nil:
			return err
		case ok:
			heap.Fix(&h, 0)
		default:
			heap.Pop(&h)
		}
	}
	return nil
}

// runReader reads a sorted run back, a row at a time.
type runReader struct {
	r   *bufio.Reader
	buf []byte
	row ImportRow
}

// next reads the run's next row into row; false at its end.
func (r *runReader) next() (bool, error) {
	n, err := binary.ReadUvarint(r.r)
	if errors.Is(err, io.EOF) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sort the file's rows: %w", err)
	}
	r.buf = slices.Grow(r.buf[:0], int(n))[:n]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		return false, fmt.Errorf("sort the file's rows: %w", err)
	}
	if r.row, err = readImportRow(r.buf); err != nil {
		return false, fmt.Errorf("sort the file's rows: %w", err)
	}
	return true, nil
}

// runHeap is the runs being merged, the one with the least row first.
type runHeap []*runReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return compareImportRows(&h[i].row, &h[j].row) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*runReader)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
