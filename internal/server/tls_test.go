package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/lbm-project/lbm/internal/identity"
	"github.com/lbm-project/lbm/internal/server"
	"github.com/lbm-project/lbm/internal/store"
	"github.com/lbm-project/lbm/internal/testcert"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	c := testcert.New(t)
	certFile, keyFile = c.Files(t)
	return certFile, keyFile, c.Pool
}

// TestServeTLS: with --tls-cert and --tls-key lbm serves HTTPS only, sets
// HSTS, and its session cookie is Secure.
func TestServeTLS(t *testing.T) {
	certFile, keyFile, pool := selfSigned(t)
	n, err := server.Open(t.Context(), server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	now := n.Now()
	if _, _, err := n.Store.PutPeople(t.Context(), []store.Person{{ID: "ann", Name: "Ann", Roles: []string{"staff"}, Updated: now}}); err != nil {
		t.Fatal(err)
	}
	if err := identity.SetPassword(t.Context(), n.Store, n.KEK, "ann", "a long enough password", nil, now); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan net.Addr, 1)
	var wg sync.WaitGroup
	wg.Go(func() {
		err := server.Serve(ctx, n, server.ServeConfig{Addr: "127.0.0.1:0", TLSCert: certFile, TLSKey: keyFile,
			Listening: func(a, _ net.Addr) { addr <- a }})
		if err != nil {
			t.Errorf("Serve = %v", err)
		}
	})
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		n.Close()
	})
	host := (<-addr).String()
	client := &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Get("https://" + host + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("GET /healthz over TLS = %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	resp, err = client.PostForm("https://"+host+"/sign-in", url.Values{"username": {"ann"}, "password": {"a long enough password"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-lbm_session" {
			session = c
		}
	}
	if resp.StatusCode != http.StatusSeeOther || session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Errorf("sign-in over TLS = %d, cookie %+v; want 303 and a Secure, HttpOnly, SameSite=Lax session", resp.StatusCode, session)
	}
	// Plain HTTP to the TLS port gets nothing useful.
	if resp, err := http.Get("http://" + host + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP to the TLS listener = 200")
		}
	}
}

func TestServeTLSNeedsBoth(t *testing.T) {
	n, err := server.Open(t.Context(), server.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	err = server.Serve(t.Context(), n, server.ServeConfig{Addr: "127.0.0.1:0", TLSCert: "cert.pem"})
	if err == nil || !strings.Contains(err.Error(), "both a certificate and a key") {
		t.Errorf("Serve with a certificate and no key = %v", err)
	}
}
