// Command hookreceiver is the webhook receiver of bench/webhooks.sh: it
// listens on 127.0.0.1, checks every delivery's signature as the Standard
// Webhooks specification says, counts the changes and requests it gets and
// serves its counts as JSON at /_stats.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

type stats struct {
	Requests  int       `json:"requests"`
	Changes   int       `json:"changes"`
	Distinct  int       `json:"distinct"`
	BadSigs   int       `json:"bad_signatures"`
	First     time.Time `json:"first"`
	Last      time.Time `json:"last"`
	secret    []byte
	positions map[string]bool
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	var mu sync.Mutex
	st := &stats{positions: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /_secret", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(strings.TrimSpace(string(b)), "whsec_"))
		if err != nil {
			http.Error(w, "bad secret", 400)
			return
		}
		mu.Lock()
		st.secret = key
		mu.Unlock()
	})
	mux.HandleFunc("GET /_stats", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		st.Distinct = len(st.positions)
		json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("POST /hook", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		now := time.Now()
		mu.Lock()
		defer mu.Unlock()
		mac := hmac.New(sha256.New, st.secret)
		mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "."))
		mac.Write(body)
		want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
		ok := false
		for _, s := range strings.Fields(r.Header.Get("webhook-signature")) {
			ok = ok || hmac.Equal([]byte(s), []byte(want))
		}
		if !ok {
			st.BadSigs++
			http.Error(w, "bad signature", 401)
			return
		}
		var p struct {
			Type string `json:"type"`
			Data struct {
				Position string `json:"position"`
				Changes  []struct {
					Position string `json:"position"`
				} `json:"changes"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &p); err != nil {
			http.Error(w, "bad payload", 400)
			return
		}
		if st.Requests == 0 {
			st.First = now
		}
		st.Requests++
		st.Last = now
		if p.Type == "changes" {
			for _, c := range p.Data.Changes {
				st.Changes++
				st.positions[c.Position] = true
			}
		} else {
			st.Changes++
			st.positions[p.Data.Position] = true
		}
		w.WriteHeader(http.StatusNoContent)
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "{\"url\": \"http://%s\"}\n", ln.Addr())
	log.Fatal(http.Serve(ln, mux))
}
