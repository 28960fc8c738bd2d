//go:build linux

package e2e

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// regProxy is a reverse proxy in front of a registry that records every
// request ("METHOD PATH") and answers those refuse gives a status code for
// itself, with that status.
type regProxy struct {
	addr string
	mu   sync.Mutex
	reqs []string
}

func startRegProxy(t *testing.T, upstream string, refuse func(*http.Request) int) *regProxy {
	t.Helper()
	u, err := url.Parse("http://" + upstream)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	p := &regProxy{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.reqs = append(p.reqs, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		if refuse != nil {
			if code := refuse(r); code != 0 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(code)
				w.Write([]byte(`{"errors":[{"code":"DENIED","message":"refused by the test proxy"}]}`))
				return
			}
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.addr = srv.Listener.Addr().String()
	return p
}

// take returns the requests recorded so far and forgets them.
func (p *regProxy) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.reqs
	p.reqs = nil
	return r
}

// count is how many of reqs match: method (any when empty) and a path
// ending in suffix.
func count(reqs []string, method, suffix string) int {
	n := 0
	for _, r := range reqs {
		m, path, _ := strings.Cut(r, " ")
		if (method == "" || m == method) && strings.HasSuffix(path, suffix) {
			n++
		}
	}
	return n
}

// TestRegistryPullRequests: a pull asks the registry for the root manifest
// once (one GET, read again from memory by the copy and the progress
// total, not HEAD + GET + GET) and learns which cosign tag-form companions
// exist from one GET of the tag list, not three HEADs per manifest (.sig,
// .att, .sbom); the .sig companion the list names is pulled under its
// tag. A registry that refuses the tag list (403: pulls allowed, listings
// not) still gets its companions found, one HEAD per tag.
func TestRegistryPullRequests(t *testing.T) {
	reg := startDistribution(t, "")
	env := noDockerConfig(t)
	work := t.TempDir()
	_, lay, d := regPack(t, work)
	repo := reg.addr + "/site/app"
	mustRun(t, work, env, "push", "--plain-http", lay+":1.0", repo+":1.0")
	// The companion: another small bundle, under d's cosign .sig tag.
	sigSrc := filepath.Join(work, "sig")
	writeFile(t, filepath.Join(sigSrc, "sig.txt"), []byte("a signature of "+d.String()+"\n"), 0o644)
	stamp(t, sigSrc, time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC))
	sigLay := filepath.Join(work, "siglayout")
	sd := digestOut(t, mustRun(t, work, nil, "pack", "-o", sigLay, "-t", "sig", sigSrc))
	sigTag := "sha256-" + d.Encoded() + ".sig"
	mustRun(t, work, env, "push", "--plain-http", sigLay+":sig", repo+":"+sigTag)

	check := func(name string, proxy *regProxy, wantHeads int) {
		t.Helper()
		out := filepath.Join(work, name)
		mustRun(t, work, env, "pull", "--plain-http", "-o", out, proxy.addr+"/site/app:1.0")
		reqs := proxy.take()
		idx := readFile(t, filepath.Join(out, "index.json"))
		if !strings.Contains(idx, sigTag) || !strings.Contains(idx, sd.String()) {
			t.Errorf("%s: pull did not take the .sig companion %s under %s:\n%s", name, sd, sigTag, idx)
		}
		if n := count(reqs, "", "/manifests/1.0") + count(reqs, "", "/manifests/"+d.String()); n != 1 || count(reqs, "GET", "/manifests/1.0") != 1 {
			t.Errorf("%s: %d requests for the root manifest, want one GET:\n%s", name, n, strings.Join(reqs, "\n"))
		}
		heads := 0
		for _, kind := range []string{".sig", ".att", ".sbom"} {
			heads += count(reqs, "HEAD", "/manifests/sha256-"+d.Encoded()+kind)
		}
		if heads != wantHeads || count(reqs, "GET", "/tags/list") != 1 {
			t.Errorf("%s: %d HEADs of companion tags (want %d), %d tag lists (want 1):\n%s", name, heads, wantHeads, count(reqs, "GET", "/tags/list"), strings.Join(reqs, "\n"))
		}
	}
	// The list names the .sig tag: one HEAD, for it.
	check("listed", startRegProxy(t, reg.addr, nil), 1)
	// No list: one HEAD per kind.
	check("unlisted", startRegProxy(t, reg.addr, func(r *http.Request) int {
		if strings.HasSuffix(r.URL.Path, "/tags/list") {
			return http.StatusForbidden
		}
		return 0
	}), 3)
}
