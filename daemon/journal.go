package daemon

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/coreos/go-systemd/v22/journal"

	"github.com/scimbridge/scimbridge/configs"
)

// parseLevel is the slog level of a log.level setting (info when unknown).
func parseLevel(s string) slog.Level {
	switch s {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// newServeLogger returns serve's logger and the level it filters at, which
// a configuration reload changes. Logs go to w as text or JSON lines, or,
// when w is the standard error that systemd connected to the journal, to
// journald directly with every attribute as a field (org_id as ORG_ID,
// run_id as RUN_ID, request_id as REQUEST_ID), so `journalctl -o json`
// users can filter on them.
func newServeLogger(cfg configs.Log, w io.Writer) (*slog.Logger, *slog.LevelVar) {
	level := new(slog.LevelVar)
	level.Set(parseLevel(cfg.Level))
	if stderrIsJournal(w) && journal.Enabled() {
		return slog.New(newJournalHandler(cfg.Format, level, journal.Send)), level
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), level
	}
	return slog.New(slog.NewTextHandler(w, opts)), level
}

// stderrIsJournal reports whether w is this process's standard error and
// systemd connected it to the journal ($JOURNAL_STREAM names it).
func stderrIsJournal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || f.Fd() != 2 {
		return false
	}
	is, err := journal.StderrIsJournalStream()
	return err == nil && is
}

// journalSend is journal.Send: one entry with its message, priority and
// fields.
type journalSend func(message string, priority journal.Priority, fields map[string]string) error

// journalHandler is a slog.Handler writing native journald entries.
// MESSAGE is the record as the configured format renders it (without time
// and level, which the journal keeps as its timestamp and PRIORITY); each
// attribute is also a field of its own, its key upper-cased with groups
// joined by "_".
type journalHandler struct {
	level  slog.Leveler
	send   journalSend
	format string
	// attrs and groups are what WithAttrs and WithGroup added, in order.
	attrs  []groupedAttr
	groups []string
	// mu serialises rendering into the shared buffer.
	mu *sync.Mutex
}

type groupedAttr struct {
	groups []string
	attr   slog.Attr
}

func newJournalHandler(format string, level slog.Leveler, send journalSend) *journalHandler {
	return &journalHandler{level: level, send: send, format: format, mu: new(sync.Mutex)}
}

func (h *journalHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *journalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]groupedAttr(nil), h.attrs...)
	for _, a := range as {
		c.attrs = append(c.attrs, groupedAttr{groups: h.groups, attr: a})
	}
	return &c
}

func (h *journalHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.groups = append(append([]string(nil), h.groups...), name)
	return &c
}

func (h *journalHandler) Handle(_ context.Context, r slog.Record) error {
	fields := map[string]string{"SYSLOG_IDENTIFIER": "scimbridge"}
	for _, ga := range h.attrs {
		addField(fields, ga.groups, ga.attr)
	}
	r.Attrs(func(a slog.Attr) bool {
		addField(fields, h.groups, a)
		return true
	})
	return h.send(h.render(r), priority(r.Level), fields)
}

// render is the record's MESSAGE: its text or JSON line without time and
// level.
func (h *journalHandler) render(r slog.Record) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var buf bytes.Buffer
	opts := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
			return slog.Attr{}
		}
		return a
	}}
	var th slog.Handler
	if h.format == "json" {
		th = slog.NewJSONHandler(&buf, opts)
	} else {
		th = slog.NewTextHandler(&buf, opts)
	}
	var pending []slog.Attr
	var at []string
	flush := func() {
		if len(pending) > 0 {
			th = th.WithAttrs(pending)
			pending = nil
		}
	}
	for _, ga := range h.attrs {
		for len(at) < len(ga.groups) {
			flush()
			th = th.WithGroup(ga.groups[len(at)])
			at = ga.groups[:len(at)+1]
		}
		pending = append(pending, ga.attr)
	}
	flush()
	for len(at) < len(h.groups) {
		th = th.WithGroup(h.groups[len(at)])
		at = h.groups[:len(at)+1]
	}
	_ = th.Handle(context.Background(), r)
	return strings.TrimSuffix(buf.String(), "\n")
}

// reservedFields are journal fields the handler sets itself; attributes
// with these names get an ATTR_ prefix.
var reservedFields = map[string]bool{"MESSAGE": true, "PRIORITY": true, "SYSLOG_IDENTIFIER": true,
	"MESSAGE_ID": true, "CODE_FILE": true, "CODE_LINE": true, "CODE_FUNC": true, "ERRNO": true}

// addField adds attribute a under the groups as one or more journal fields.
func addField(fields map[string]string, groups []string, a slog.Attr) {
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		if a.Key != "" {
			groups = append(append([]string(nil), groups...), a.Key)
		}
		for _, ga := range v.Group() {
			addField(fields, groups, ga)
		}
		return
	}
	if a.Key == "" {
		return
	}
	name := fieldName(append(append([]string(nil), groups...), a.Key))
	if name == "" {
		return
	}
	if reservedFields[name] {
		name = "ATTR_" + name
	}
	fields[name] = v.String()
}

// fieldName turns a key path into a journal field name: upper-case
// letters, digits and underscores, not starting with an underscore.
func fieldName(path []string) string {
	var b strings.Builder
	for i, p := range path {
		if i > 0 {
			b.WriteByte('_')
		}
		for _, r := range p {
			switch {
			case r >= 'a' && r <= 'z':
				b.WriteRune(r - 'a' + 'A')
			case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
				b.WriteRune(r)
			default:
				b.WriteByte('_')
			}
		}
	}
	name := strings.TrimLeft(b.String(), "_")
	if len(name) > 64 {
		name = name[:64]
	}
	return name
}

// priority maps a slog level to a syslog priority.
func priority(l slog.Level) journal.Priority {
	switch {
	case l >= slog.LevelError:
		return journal.PriErr
	case l >= slog.LevelWarn:
		return journal.PriWarning
	case l >= slog.LevelInfo:
		return journal.PriInfo
	}
	return journal.PriDebug
}
