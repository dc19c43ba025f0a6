package bridge

import (
	"bufio"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/internal/textkey"
	"github.com/scimbridge/scimbridge/reconcile"
)

// A first sync lists users no stored profile knows. Those the plan will
// certainly create as they are (a new Google id, in scope, not excluded,
// storable, taking no address a stored profile holds) are written to a
// temporary file while the listing goes on, instead of being kept until
// it completes: the run keeps of each only the hashes of the addresses it
// takes. Once the listing is complete, the few whose address another
// listed user also takes are read back and planned with the rest, so the
// plan is the one it would be without the file; the others are created
// after the plan, read back in userName order. An incomplete listing
// applies nothing: the file is removed with the run, whatever its end.

// spillRunSize is how many spilled users are sorted in memory and written
// as one run of the file.
const spillRunSize = 4096

// spillRecord is one spilled user as the file holds it: its desired state
// in the JSON form a held plan uses (read back through Normalize), what
// its create reason needs and its position in the listing.
type spillRecord struct {
	Desired   reconcile.Desired `json:"d"`
	Suspended bool              `json:"s,omitempty"`
	Archived  bool              `json:"a,omitempty"`
	Seq       int               `json:"n"`
}

// spilled is a spilled user in memory.
type spilled struct {
	u   reconcile.DirectoryUser
	seq int
}

// spillRun is one sorted run of the file.
type spillRun struct {
	off, size int64
}

// spill is the temporary file of a run's spilled creates.
type spill struct {
	f   *os.File
	w   *bufio.Writer
	enc *json.Encoder
	// buf is the run being gathered; runs those written.
	buf  []spilled
	runs []spillRun
	// keys are the hashes of the addresses spilled users take.
	keys []uint64
	seed maphash.Seed
	// n counts the spilled users; back marks (by listing position) those
	// read back to be planned with the rest.
	n    int
	back map[int]bool
	// extraGIDs are the Google ids of the index's extras.
	extraGIDs map[string]bool
	err       error
}

// newSpill creates the file in dir (os.TempDir when empty), unlinked from
// the start where the system allows it: nothing is left behind, even by a
// killed process.
func newSpill(dir string) (*spill, error) {
	f, err := os.CreateTemp(dir, "scimbridge-spill-*")
	if err != nil {
		return nil, fmt.Errorf("create spill file: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("create spill file: %w", err)
	}
	s := &spill{f: f, w: bufio.NewWriterSize(f, 64<<10), seed: maphash.MakeSeed(), back: map[int]bool{}}
	s.enc = json.NewEncoder(s.w)
	return s, nil
}

// close removes the file.
func (s *spill) close() {
	if s != nil && s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// take spills u, the seq-th listed user, when the plan will certainly
// create it as it is, and says whether it did.
func (s *spill) take(x *userIndex, pinned map[string]bool, u *reconcile.DirectoryUser, seq int) bool {
	gid := u.Desired.GoogleID()
	if s.err != nil || !u.InScope || u.Excluded || pinned[gid] || x.find(gid) != nil || s.extraGID(x, gid) {
		return false
	}
	email, err := u.Desired.Check()
	if err != nil {
		return false
	}
	uk, ek := textkey.Key(u.Desired.UserName()), textkey.Key(email)
	if uk == "" || x.heldKey(uk) || x.heldKey(ek) {
		return false
	}
	s.keys = s.addKeys(s.keys, u)
	s.buf = append(s.buf, spilled{u: *u, seq: seq})
	s.n++
	if len(s.buf) == spillRunSize {
		s.flush()
	}
	return true
}

// extraGID reports whether a profile of the index's extras has Google id
// gid (the planner would match it).
func (s *spill) extraGID(x *userIndex, gid string) bool {
	if s.extraGIDs == nil {
		s.extraGIDs = map[string]bool{}
		for i := range x.extras {
			if id := x.extras[i].GoogleID; id != "" {
				s.extraGIDs[id] = true
			}
		}
	}
	return s.extraGIDs[gid]
}

// addKeys appends the hashes of the addresses u takes (its userName and
// profile email), each once.
func (s *spill) addKeys(keys []uint64, u *reconcile.DirectoryUser) []uint64 {
	email, _ := u.Desired.Check()
	uk, ek := textkey.Key(u.Desired.UserName()), textkey.Key(email)
	if uk != "" {
		keys = append(keys, maphash.String(s.seed, uk))
	}
	if ek != "" && ek != uk {
		keys = append(keys, maphash.String(s.seed, ek))
	}
	return keys
}

// flush writes the gathered users as one run, sorted by userName.
func (s *spill) flush() {
	if len(s.buf) == 0 || s.err != nil {
		return
	}
	slices.SortStableFunc(s.buf, func(a, b spilled) int {
		return strings.Compare(a.u.Desired.UserName(), b.u.Desired.UserName())
	})
	start, err := s.f.Seek(0, io.SeekCurrent)
	for i := 0; err == nil && i < len(s.buf); i++ {
		u := &s.buf[i].u
		err = s.enc.Encode(spillRecord{Desired: u.Desired, Suspended: u.Suspended, Archived: u.Archived, Seq: s.buf[i].seq})
	}
	if err == nil {
		err = s.w.Flush()
	}
	var end int64
	if err == nil {
		end, err = s.f.Seek(0, io.SeekCurrent)
	}
	if err != nil {
		s.err = fmt.Errorf("spill listed users: %w", err)
		return
	}
	s.runs = append(s.runs, spillRun{off: start, size: end - start})
	clear(s.buf)
	s.buf = s.buf[:0]
}

// settle completes the file once the listing is: the spilled users whose
// address a kept user (users, at listing positions seqs) or another
// spilled user also takes are read back and returned among users, in
// listing order, to be planned; the rest wait in the file for apply.
func (s *spill) settle(users []reconcile.DirectoryUser, seqs []int) ([]reconcile.DirectoryUser, error) {
	s.flush()
	if s.err != nil {
		return nil, s.err
	}
	all := s.keys
	for i := range users {
		all = s.addKeys(all, &users[i])
	}
	s.keys = nil
	slices.Sort(all)
	var doubtful []uint64
	for i := 1; i < len(all); i++ {
		if all[i] == all[i-1] && (len(doubtful) == 0 || doubtful[len(doubtful)-1] != all[i]) {
			doubtful = append(doubtful, all[i])
		}
	}
	if len(doubtful) == 0 {
		return users, nil
	}
	var back []spilled
	for r := range s.runs {
		d := s.decoder(s.runs[r])
		for {
			u, seq, err := d.next()
			if err == io.EOF {
				break
			} else if err != nil {
				return nil, err
			}
			for _, k := range s.addKeys(nil, &u) {
				if _, ok := slices.BinarySearch(doubtful, k); ok {
					back = append(back, spilled{u: u, seq: seq})
					s.back[seq] = true
					break
				}
			}
		}
	}
	slices.SortFunc(back, func(a, b spilled) int { return a.seq - b.seq })
	out := make([]reconcile.DirectoryUser, 0, len(users)+len(back))
	i := 0
	for _, b := range back {
		for i < len(users) && seqs[i] < b.seq {
			out = append(out, users[i])
			i++
		}
		out = append(out, b.u)
	}
	return append(out, users[i:]...), nil
}

// pending counts the spilled users still to create.
func (s *spill) pending() int {
	if s == nil {
		return 0
	}
	return s.n - len(s.back)
}

// runDecoder reads one run back.
type runDecoder struct {
	dec *json.Decoder
}

func (s *spill) decoder(r spillRun) *runDecoder {
	return &runDecoder{dec: json.NewDecoder(bufio.NewReaderSize(io.NewSectionReader(s.f, r.off, r.size), 16<<10))}
}

// next returns the run's next user and its listing position; io.EOF at
// the end.
func (d *runDecoder) next() (reconcile.DirectoryUser, int, error) {
	var rec spillRecord
	if err := d.dec.Decode(&rec); err != nil {
		if errors.Is(err, io.EOF) {
			return reconcile.DirectoryUser{}, 0, io.EOF
		}
		return reconcile.DirectoryUser{}, 0, fmt.Errorf("read spilled users: %w", err)
	}
	return reconcile.DirectoryUser{Desired: rec.Desired, InScope: true, Suspended: rec.Suspended, Archived: rec.Archived},
		rec.Seq, nil
}

// each calls fn with every spilled user still to create, in userName
// order (the runs merged), until fn returns false.
func (s *spill) each(fn func(u *reconcile.DirectoryUser) bool) error {
	h := &mergeHeap{}
	for _, r := range s.runs {
		d := s.decoder(r)
		if err := h.pushNext(d); err != nil {
			return err
		}
	}
	heap.Init(h)
	for h.Len() > 0 {
		top := &(*h)[0]
		u, d := top.u, top.d
		if !s.back[top.seq] && !fn(&u) {
			return nil
		}
		u2, seq, err := d.next()
		switch {
		case err == io.EOF:
			heap.Pop(h)
		case err != nil:
			return err
		default:
			top.u, top.seq = u2, seq
			heap.Fix(h, 0)
		}
	}
	return nil
}

// mergeHead is a run's next user.
type mergeHead struct {
	u   reconcile.DirectoryUser
	seq int
	run int
	d   *runDecoder
}

// mergeHeap orders run heads by userName, then run.
type mergeHeap []mergeHead

func (h *mergeHeap) pushNext(d *runDecoder) error {
	u, seq, err := d.next()
	if err == io.EOF {
		return nil
	} else if err != nil {
		return err
	}
	*h = append(*h, mergeHead{u: u, seq: seq, run: len(*h), d: d})
	return nil
}

func (h mergeHeap) Len() int { return len(h) }
func (h mergeHeap) Less(i, j int) bool {
	if c := strings.Compare(h[i].u.Desired.UserName(), h[j].u.Desired.UserName()); c != 0 {
		return c < 0
	}
	return h[i].run < h[j].run
}
func (h mergeHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *mergeHeap) Push(x any)   { *h = append(*h, x.(mergeHead)) }
func (h *mergeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
