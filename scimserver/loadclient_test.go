package scimserver

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// The load client of BenchmarkSCIMLoad: loadClients goroutines, each with
// its keep-alive HTTP/1.1 connection, sending one workload's requests. It
// runs inside the benchmark's process or, with -load-client-process, in a
// child process (the test binary started again; TestMain hands it to
// runLoadClientProcess), so the server's process holds only the server.

// Environment of a load-client child process.
const (
	envLoadClient = "SCIMBRIDGE_TEST_LOAD_CLIENT" // the workload kind; set only in the child
	envLoadURL    = "SCIMBRIDGE_TEST_LOAD_URL"
	envLoadToken  = "SCIMBRIDGE_TEST_LOAD_TOKEN"
	envLoadN      = "SCIMBRIDGE_TEST_LOAD_N"
	envLoadIDs    = "SCIMBRIDGE_TEST_LOAD_IDS"   // file of seeded user ids, one a line
	envLoadFor    = "SCIMBRIDGE_TEST_LOAD_FOR"   // a duration: stop sending after it
	envLoadFirst  = "SCIMBRIDGE_TEST_LOAD_FIRST" // POST_seq: the first user's number
)

// workload is one kind of request, over the seeded users.
type workload struct {
	kind string // POST, POST_seq, GET or PATCH
	ids  []string
	// duration, when not 0, stops the run once it has passed.
	duration time.Duration
	// first is the number of POST_seq's first user: POST_seq creates
	// seedName(first), seedName(first+1), ..., the names GET looks up.
	first int64
	// sent numbers the requests for unique bodies.
	sent atomic.Int64
}

// seedName is the userName of seeded user i.
func seedName(i int) string { return fmt.Sprintf("seed.%06d@example.com", i) }

// request returns the next request and what a right answer is.
func (w *workload) request(r *rand.Rand) (method, path string, body []byte, want int, contains []byte) {
	n := w.sent.Add(1)
	switch w.kind {
	case "POST":
		return "POST", "/Users", oktaCreateBody(n), http.StatusCreated, nil
	case "POST_seq":
		return "POST", "/Users", oktaSeqBody(w.first + n - 1), http.StatusCreated, nil
	case "GET":
		f := url.QueryEscape(`userName eq "` + seedName(r.IntN(len(w.ids))) + `"`)
		return "GET", "/Users?filter=" + f + "&startIndex=1&count=100", nil, http.StatusOK, []byte(`"totalResults":1,`)
	default:
		body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` +
			`{"op":"Replace","path":"title","value":"Engineer ` + strconv.FormatInt(n, 10) + `"}]}`
		return "PATCH", "/Users/" + w.ids[r.IntN(len(w.ids))], []byte(body), http.StatusOK, nil
	}
}

// oktaCreateBody is the body Okta sends to create user n (the password
// goes through the event's redaction).
func oktaCreateBody(n int64) []byte {
	tag := uuid.NewString()[:8] // unique across runs, which all count from 1
	name := "load." + strconv.FormatInt(n, 10) + "." + tag + "@example.com"
	return []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + name +
		`","name":{"givenName":"Load","familyName":"User ` + strconv.FormatInt(n, 10) + `"},` +
		`"emails":[{"primary":true,"value":"` + name + `","type":"work"}],"displayName":"Load User",` +
		`"locale":"en-US","externalId":"00u` + tag + strconv.FormatInt(n, 36) + `","groups":[],"password":"1mz050nq","active":true}`)
}

// oktaSeqBody is the body Okta sends to create seeded user i.
func oktaSeqBody(i int64) []byte {
	name, tag := seedName(int(i)), uuid.NewString()[:8]
	return []byte(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + name +
		`","name":{"givenName":"Load","familyName":"User ` + strconv.FormatInt(i, 10) + `"},` +
		`"emails":[{"primary":true,"value":"` + name + `","type":"work"}],"displayName":"Load User",` +
		`"locale":"en-US","externalId":"00u` + tag + strconv.FormatInt(i, 36) + `","groups":[],"password":"1mz050nq","active":true}`)
}

// loadResult is what a load run measured.
type loadResult struct {
	Count   int           `json:"count"`
	Elapsed time.Duration `json:"elapsed"`
	P50     time.Duration `json:"p50"`
	P99     time.Duration `json:"p99"`
	Max     time.Duration `json:"max"`
	Error   string        `json:"error,omitempty"`
	// ClientCPU is the child process's CPU time (0 in process).
	ClientCPU time.Duration `json:"client_cpu"`
}

// runLoad sends n requests of w to the SCIM base URL from loadClients
// goroutines (or fewer, when w.duration passes first) and calls half once
// when the n/2th request starts.
func runLoad(base, token string, n int, w *workload, half func()) loadResult {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadClients, DisableCompression: true}}
	defer client.CloseIdleConnections()
	var counter atomic.Int64
	latencies := make([][]time.Duration, loadClients)
	var errOnce sync.Once
	var firstErr error
	fail := func(err error) { errOnce.Do(func() { firstErr = err }) }
	var wg sync.WaitGroup
	start := time.Now()
	for c := range loadClients {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(c), uint64(time.Now().UnixNano())))
			buf := make([]byte, 0, 8<<10)
			lat := make([]time.Duration, 0, n/loadClients+1)
			defer func() { latencies[c] = lat }()
			for {
				i := counter.Add(1) - 1
				if i >= int64(n) || w.duration > 0 && time.Since(start) >= w.duration {
					return
				}
				if i == int64(n/2) && half != nil {
					half()
				}
				method, path, body, want, contains := w.request(r)
				hr, err := http.NewRequest(method, base+path, bytes.NewReader(body))
				if err != nil {
					fail(err)
					return
				}
				hr.Header.Set("Authorization", "Bearer "+token)
				hr.Header.Set("Accept", "application/scim+json")
				if body != nil {
					hr.Header.Set("Content-Type", "application/scim+json")
				}
				t0 := time.Now()
				res, err := client.Do(hr)
				if err != nil {
					fail(err)
					return
				}
				buf, err = readAll(res.Body, buf[:0])
				res.Body.Close()
				lat = append(lat, time.Since(t0))
				if err != nil {
					fail(err)
					return
				}
				if res.StatusCode != want || (contains != nil && !bytes.Contains(buf, contains)) {
					fail(fmt.Errorf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, want, buf))
					return
				}
			}
		})
	}
	wg.Wait()
	res := loadResult{Elapsed: time.Since(start)}
	if firstErr != nil {
		res.Error = firstErr.Error()
	}
	all := slices.Concat(latencies...)
	slices.Sort(all)
	if res.Count = len(all); res.Count > 0 {
		q := func(f float64) time.Duration { return all[min(len(all)-1, int(float64(len(all))*f))] }
		res.P50, res.P99, res.Max = q(0.50), q(0.99), all[len(all)-1]
	}
	return res
}

// runLoadInChild runs runLoad in a child process: the test binary again,
// which TestMain sends to runLoadClientProcess. half is called when the
// child reports its midpoint.
func runLoadInChild(base, token string, n int, w *workload, idsFile string, half func()) (loadResult, error) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envLoadClient+"="+w.kind, envLoadURL+"="+base, envLoadToken+"="+token,
		envLoadN+"="+strconv.Itoa(n), envLoadIDs+"="+idsFile,
		envLoadFor+"="+w.duration.String(), envLoadFirst+"="+strconv.FormatInt(w.first, 10))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return loadResult{}, err
	}
	if err := cmd.Start(); err != nil {
		return loadResult{}, err
	}
	var res loadResult
	var got bool
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Bytes()
		switch {
		case string(line) == "half":
			half()
		case bytes.HasPrefix(line, []byte("{")):
			got = json.Unmarshal(line, &res) == nil
		}
	}
	if err := cmd.Wait(); err != nil {
		return res, fmt.Errorf("load client: %w", err)
	}
	if !got {
		return res, errors.New("load client printed no result")
	}
	res.ClientCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return res, nil
}

// runLoadClientProcess is the child's side of runLoadInChild; it returns
// the exit code.
func runLoadClientProcess() int {
	n, err := strconv.Atoi(os.Getenv(envLoadN))
	if err != nil {
		fmt.Fprintln(os.Stderr, "load client:", err)
		return 2
	}
	raw, err := os.ReadFile(os.Getenv(envLoadIDs))
	if err != nil {
		fmt.Fprintln(os.Stderr, "load client:", err)
		return 2
	}
	w := &workload{kind: os.Getenv(envLoadClient), ids: strings.Fields(string(raw))}
	if v := os.Getenv(envLoadFor); v != "" {
		if w.duration, err = time.ParseDuration(v); err != nil {
			fmt.Fprintln(os.Stderr, "load client:", err)
			return 2
		}
	}
	if v := os.Getenv(envLoadFirst); v != "" {
		if w.first, err = strconv.ParseInt(v, 10, 64); err != nil {
			fmt.Fprintln(os.Stderr, "load client:", err)
			return 2
		}
	}
	var mu sync.Mutex
	res := runLoad(os.Getenv(envLoadURL), os.Getenv(envLoadToken), n, w, func() {
		mu.Lock()
		defer mu.Unlock()
		fmt.Println("half")
	})
	b, _ := json.Marshal(res)
	fmt.Println(string(b))
	return 0
}

// readAll appends r's content to buf.
func readAll(r io.Reader, buf []byte) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		} else if err != nil {
			return buf, err
		}
	}
}
