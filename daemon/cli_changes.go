package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge"
	"github.com/scimbridge/scimbridge/feed"
)

// changesPage is how many changes the command reads at a time.
const changesPage = 500

func changesCommands() []command {
	return []command{
		{name: "changes list", args: "--org SLUG [--after CURSOR] [--follow]",
			summary: "print the changes feed in order; --follow waits for new changes; --json prints one change per line",
			run:     runChangesList},
	}
}

func runChangesList(ctx context.Context, c *cli, args []string) error {
	f := c.newFlags("changes list --org SLUG [--after CURSOR] [--follow]", true)
	slug := f.String("org", "", "organization `SLUG`")
	after := f.String("after", "", "print the changes after `CURSOR` (default: from the oldest kept)")
	followFlag := f.Bool("follow", false, "keep waiting for new changes until interrupted")
	s, org, _, err := c.orgSession(ctx, f, slug, args)
	if err != nil {
		return err
	}
	defer s.close()
	if *after != "" {
		if _, err := feed.DecodeCursor(*after); err != nil {
			return usagef(f.cmd, "%s", scimbridge.ErrorMessage(err))
		}
	}
	fs, ok := s.db.(feed.Store)
	if !ok {
		return errors.New("this database cannot serve the changes feed")
	}
	// No notifier in this process: a follow reads every second.
	fd := &feed.Feed{Store: fs, Poll: time.Second}
	cursor := *after
	enc := json.NewEncoder(c.stdout)
	for {
		wait := time.Duration(0)
		if *followFlag {
			wait = 30 * time.Second
		}
		page, err := fd.Read(ctx, org.ID, cursor, changesPage, wait)
		if errors.Is(err, feed.ErrGone) {
			return fmt.Errorf("cursor %s is older than the oldest change kept (changes.retention): start again without --after", cursor)
		} else if err != nil {
			if *followFlag && ctx.Err() != nil {
				return nil // interrupted
			}
			return fmt.Errorf("read changes: %w", err)
		}
		for _, ch := range page.Changes {
			if f.json {
				err = enc.Encode(ch)
			} else {
				err = printChange(c, ch)
			}
			if err != nil {
				return err
			}
		}
		cursor = page.NextCursor
		if !*followFlag && !page.HasMore {
			fmt.Fprintf(c.stderr, "next cursor: %s\n", cursor)
			return nil
		}
	}
}

// printChange writes one change as a line of text.
func printChange(c *cli, ch feed.Change) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %-22s %s", ch.Time.UTC().Format(time.RFC3339), ch.Type, ch.ResourceID)
	if ch.UserID != "" {
		fmt.Fprintf(&b, " user=%s", ch.UserID)
	}
	if ch.Version != 0 {
		fmt.Fprintf(&b, " version=%d", ch.Version)
	}
	if len(ch.Attributes) > 0 {
		fmt.Fprintf(&b, " changed=%s", strings.Join(ch.Attributes, ","))
	}
	fmt.Fprintf(&b, " source=%s  %s\n", ch.Source, ch.Cursor)
	_, err := c.stdout.Write([]byte(b.String()))
	return err
}
