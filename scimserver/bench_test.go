package scimserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// benchClients is how many clients send requests at the same time.
const benchClients = 8

// benchUsers is how many users the lookup and PATCH benchmarks work on.
const benchUsers = 200

// BenchmarkSCIM measures the SCIM API over HTTP on loopback with
// benchClients concurrent clients, the rate limit off and every request
// logging its event: POST /Users, GET /Users?filter=userName eq, PATCH.
// It reports requests per second and the 99th percentile latency.
func BenchmarkSCIM(b *testing.B) {
	for _, backend := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{
		{"PostgreSQL", storetest.OpenPostgres},
		{"SQLite", storetest.OpenSQLite},
	} {
		b.Run(backend.name, func(b *testing.B) {
			b.Run("POST", func(b *testing.B) {
				e := newEnv(b, backend.open(b))
				benchRequests(b, e, func(i int) (string, string, []byte) {
					return "POST", "/Users", mustJSON(b, user(fmt.Sprintf("bench-%d@example.com", i)))
				}, http.StatusCreated)
			})
			b.Run("GetFilter", func(b *testing.B) {
				e := newEnv(b, backend.open(b))
				seedUsers(b, e)
				benchRequests(b, e, func(i int) (string, string, []byte) {
					f := url.QueryEscape(fmt.Sprintf(`userName eq "seed-%d@example.com"`, i%benchUsers))
					return "GET", "/Users?filter=" + f, nil
				}, http.StatusOK)
			})
			b.Run("PATCH", func(b *testing.B) {
				e := newEnv(b, backend.open(b))
				ids := seedUsers(b, e)
				benchRequests(b, e, func(i int) (string, string, []byte) {
					return "PATCH", "/Users/" + ids[i%len(ids)], mustJSON(b, patchBody(map[string]any{
						"op": "replace", "path": "title", "value": fmt.Sprintf("title %d", i),
					}))
				}, http.StatusOK)
			})
		})
	}
}

// seedUsers creates benchUsers users and returns their ids.
func seedUsers(b *testing.B, e *testEnv) []string {
	ids := make([]string, benchUsers)
	for i := range ids {
		ids[i] = e.createUser(user(fmt.Sprintf("seed-%d@example.com", i)))
	}
	return ids
}

func mustJSON(b *testing.B, v any) []byte {
	out, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// benchRequests sends b.N requests made by next from benchClients
// goroutines, each expecting status want.
func benchRequests(b *testing.B, e *testEnv, next func(i int) (method, path string, body []byte), want int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: benchClients * 2}}
	defer client.CloseIdleConnections()
	var counter atomic.Int64
	latencies := make([][]time.Duration, benchClients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := range benchClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(counter.Add(1)) - 1
				if i >= b.N {
					return
				}
				method, path, body := next(i)
				hr, err := http.NewRequest(method, e.base+path, bytes.NewReader(body))
				if err != nil {
					b.Error(err)
					return
				}
				hr.Header.Set("Authorization", "Bearer "+e.token)
				if body != nil {
					hr.Header.Set("Content-Type", "application/scim+json")
				}
				t0 := time.Now()
				res, err := client.Do(hr)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				latencies[c] = append(latencies[c], time.Since(t0))
				if res.StatusCode != want {
					b.Errorf("%s %s: status %d, want %d", method, path, res.StatusCode, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(latencies...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(len(all))/elapsed.Seconds(), "req/s")
		b.ReportMetric(float64(all[(len(all)*99)/100].Microseconds())/1000, "p99-ms")
	}
}
