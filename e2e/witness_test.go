package e2e

import (
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/lbm-project/lbm/internal/tlog"
)

// torchwood is the release of the real witness (litewitness, witnessctl)
// the test runs lbm against: later releases need a newer Go.
const torchwood = "filippo.io/torchwood/cmd/%s@v0.6.1"

var (
	witnessBinsOnce sync.Once
	witnessBinsDir  string
	litewitnessErr  error
	witnessctlErr   error
)

// witnessBins installs litewitness and witnessctl once per run. witnessctl
// is "" when it cannot be built: it needs sigsum-go, which not every
// module proxy serves; addLog then does what it does.
func witnessBins(t *testing.T) (litewitness, witnessctl string) {
	t.Helper()
	witnessBinsOnce.Do(func() {
		witnessBinsDir = filepath.Join(tmpRoot, "torchwood")
		install := func(name string) error {
			cmd := exec.Command(goTool(), "install", fmt.Sprintf(torchwood, name))
			cmd.Dir = tmpRoot // outside lbm's module: torchwood's go.mod decides
			cmd.Env = append(os.Environ(), "GOBIN="+witnessBinsDir, "GOFLAGS=")
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("go install %s: %v\n%s", fmt.Sprintf(torchwood, name), err, out)
			}
			return nil
		}
		litewitnessErr = install("litewitness")
		witnessctlErr = install("witnessctl")
	})
	if litewitnessErr != nil {
		t.Fatal(litewitnessErr)
	}
	if witnessctlErr != nil {
		t.Logf("witnessctl unavailable, registering logs in litewitness's database directly: %v", witnessctlErr)
		return filepath.Join(witnessBinsDir, "litewitness"), ""
	}
	return filepath.Join(witnessBinsDir, "litewitness"), filepath.Join(witnessBinsDir, "witnessctl")
}

// liteWitness is a running litewitness with its own ssh-agent.
type liteWitness struct {
	URL, Name, VKey string
	db, ctl         string
	stderr          lockedBuffer
}

// startLiteWitness starts ssh-agent with a fresh Ed25519 key, and
// litewitness on 127.0.0.1 with a fresh database, signing through it.
func startLiteWitness(t *testing.T) *liteWitness {
	t.Helper()
	for _, tool := range []string{"ssh-agent", "ssh-keygen", "ssh-add"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (Debian: apt-get install openssh-client): litewitness signs through ssh-agent", tool)
		}
	}
	lw, ctl := witnessBins(t)
	// A socket path must be short (108 bytes): not under t.TempDir.
	dir, err := os.MkdirTemp("", "lw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	key, sock := filepath.Join(dir, "key"), filepath.Join(dir, "agent.sock")
	runCmd(t, nil, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "litewitness", "-f", key)
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	if err := agent.Start(); err != nil {
		t.Fatalf("starting ssh-agent: %v", err)
	}
	t.Cleanup(func() { agent.Process.Signal(syscall.SIGTERM); agent.Wait() })
	waitFor(t, "ssh-agent's socket", func() bool { _, err := os.Stat(sock); return err == nil })
	runCmd(t, []string{"SSH_AUTH_SOCK=" + sock}, "ssh-add", "-q", key)
	fp := strings.Fields(runCmd(t, nil, "ssh-keygen", "-l", "-E", "sha256", "-f", key+".pub"))[1]

	w := &liteWitness{Name: "witness.test/e2e", db: filepath.Join(dir, "witness.db"), ctl: ctl}
	w.VKey = cosignatureKey(t, w.Name, key+".pub")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	w.URL = "http://" + addr
	cmd := exec.Command(lw, "-db", w.db, "-name", w.Name, "-key", fp, "-ssh-agent", sock, "-listen", addr)
	cmd.Stderr = &w.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting litewitness: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		if t.Failed() {
			t.Logf("litewitness:\n%s", w.stderr.String())
		}
	})
	waitFor(t, "litewitness to listen", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	// litewitness names its key too: it must be the one worked out here.
	if !strings.Contains(w.stderr.String(), w.VKey) {
		t.Fatalf("litewitness's log does not show the verifier key %s:\n%s", w.VKey, w.stderr.String())
	}
	return w
}

// addLog registers a log's origin and verifier key with the witness:
// with witnessctl add-log and add-key, or, without witnessctl, with the
// rows they write (a log at size 0 with the empty tree's hash, and its key).
func (w *liteWitness) addLog(t *testing.T, vkey string) {
	t.Helper()
	origin, _, _ := strings.Cut(vkey, "+")
	if w.ctl != "" {
		runCmd(t, nil, w.ctl, "add-log", "-db", w.db, "-origin", origin)
		runCmd(t, nil, w.ctl, "add-key", "-db", w.db, "-origin", origin, "-key", vkey)
		return
	}
	db, err := sql.Open("sqlite", "file:"+w.db+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	empty := base64.StdEncoding.EncodeToString(tlog.EmptyRoot())
	if _, err := db.Exec(`INSERT INTO log (origin, tree_size, tree_hash) VALUES (?, 0, ?)`, origin, empty); err != nil {
		t.Fatalf("adding log %s to litewitness: %v", origin, err)
	}
	if _, err := db.Exec(`INSERT INTO key (origin, key) VALUES (?, ?)`, origin, vkey); err != nil {
		t.Fatalf("adding key of %s to litewitness: %v", origin, err)
	}
}

// cosignatureKey works out, from the SSH public key alone, the
// cosignature/v1 verifier key (c2sp.org/tlog-cosignature) of a witness
// named name.
func cosignatureKey(t *testing.T, name, pubFile string) string {
	t.Helper()
	b, err := os.ReadFile(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	blob, err := base64.StdEncoding.DecodeString(f[1])
	if err != nil || f[0] != "ssh-ed25519" {
		t.Fatalf("%s is not an ssh-ed25519 key", pubFile)
	}
	// string "ssh-ed25519", then string key: each a uint32 length first.
	n := binary.BigEndian.Uint32(blob)
	pub := blob[4+n+4:]
	if len(pub) != 32 {
		t.Fatalf("%s: a %d-byte Ed25519 key", pubFile, len(pub))
	}
	vkey, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		t.Fatal(err)
	}
	if vkey, err = fnote.VKeyToCosignatureV1(vkey); err != nil {
		t.Fatal(err)
	}
	return vkey
}

func runCmd(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// witnessStatus is GET /v1/witnesses, as far as the test reads it.
type witnessStatus struct {
	Quorum    int    `json:"quorum"`
	Fail      string `json:"fail"`
	Witnesses []struct {
		Name string `json:"name"`
		Logs []struct {
			Log          string     `json:"log"`
			CosignedSize *uint64    `json:"cosigned_size"`
			LastAttempt  *time.Time `json:"last_attempt"`
			LastError    string     `json:"last_error"`
		} `json:"logs"`
	} `json:"witnesses"`
}

// activityStatus returns the first witness's status for the activity log.
func activityStatus(t *testing.T, srv *lbmServer, token string) (cosigned *uint64, lastErr string) {
	t.Helper()
	resp, body := do(t, http.MethodGet, srv.URL+"/v1/witnesses", token, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/witnesses: %s: %s", resp.Status, body)
	}
	var st witnessStatus
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	for _, l := range st.Witnesses[0].Logs {
		if l.Log == "activity" {
			return l.CosignedSize, l.LastError
		}
	}
	t.Fatalf("GET /v1/witnesses has no activity log: %s", body)
	return nil, ""
}

func adminToken(t *testing.T, data string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(data, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestWitness runs lbm against a real witness (torchwood's litewitness):
// the checkpoint lbm serves comes back cosigned, and a copy of the store
// whose history was rewritten and re-signed with lbm's own key is refused.
func TestWitness(t *testing.T) {
	forEachEngine(t, testWitness)
}

func testWitness(t *testing.T, e engine) {
	w := startLiteWitness(t)
	st, _ := newFixture(t, e)
	activityKey := verifierKey(t, st.data)
	oversightKey := func() string {
		b, err := os.ReadFile(filepath.Join(st.data, "keys", "oversight.key"))
		if err != nil {
			t.Fatal(err)
		}
		k, err := tlog.VerifierKey(string(b))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}()
	w.addLog(t, activityKey)
	w.addLog(t, oversightKey)
	config := fmt.Sprintf("witnesses:\n  - name: lite\n    url: %s\n    key: %s\npolicy:\n  quorum: 1\n  fail: closed\n", w.URL, w.VKey)
	if err := os.WriteFile(filepath.Join(st.data, "witnesses.yaml"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}

	srv := startServer(t, st)
	token := adminToken(t, st.data)
	// Failing closed, the checkpoint is served once it is cosigned.
	var signed []byte
	waitFor(t, "a cosigned activity checkpoint", func() bool {
		resp, body := do(t, http.MethodGet, srv.URL+"/log/activity/checkpoint", "", nil)
		switch resp.StatusCode {
		case http.StatusOK:
			signed = body
			return true
		case http.StatusServiceUnavailable:
			wantProblem(t, "GET /log/activity/checkpoint before cosigning", resp, body, http.StatusServiceUnavailable, "urn:lbm:problem:not-cosigned")
			return false
		}
		t.Fatalf("GET /log/activity/checkpoint: %s: %s", resp.Status, body)
		return false
	})
	// Verifiers that know only lbm's key still accept it...
	if c, err := tlog.OpenCheckpoint(signed, activityKey); err != nil || c.Size != fixtureEvents {
		t.Fatalf("tlog.OpenCheckpoint(cosigned checkpoint) = size %d, %v; want %d\n%s", c.Size, err, fixtureEvents, signed)
	}
	// ...and the witness's cosignature checks with its key.
	v, err := fnote.NewVerifierForCosignatureV1(w.VKey)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := note.Open(signed, note.VerifierList(v)); err != nil || len(n.Sigs) != 1 || n.Sigs[0].Name != w.Name {
		t.Fatalf("the served checkpoint carries no valid cosignature by %s: %v\n%s", w.Name, err, signed)
	}
	waitFor(t, "the witness's status", func() bool {
		size, lastErr := activityStatus(t, srv, token)
		return size != nil && *size == fixtureEvents && lastErr == ""
	})
	srv.stop()

	// The forger copies the store, rewrites entry 1 consistently, removes
	// the checkpoints (and their cosignatures) the rewrite contradicts, and
	// lets lbm sign the rewritten log with the key in the data directory.
	fork := e.clone(t, st)
	db := openDB(t, fork)
	rewriteActivityEntry(t, db, 1)
	db.exec1(t, `DELETE FROM cosignatures WHERE log = 'activity'`)
	db.exec1(t, `DELETE FROM checkpoints WHERE log = 'activity'`)
	db.close(t)
	srv = startServer(t, fork)
	var lastErr string
	waitFor(t, "the witness to refuse the rewritten log", func() bool {
		_, lastErr = activityStatus(t, srv, adminToken(t, fork.data))
		return lastErr != ""
	})
	// lbm offered from 0 (the forger removed the cosignatures), the
	// witness said 409 and its size, and then refused the proof from it.
	if !strings.Contains(lastErr, "HTTP 422") {
		t.Errorf("the witness's status for the rewritten log says %q, want its refusal (HTTP 422)", lastErr)
	}
	t.Logf("the witness's status for the rewritten log: %s", lastErr)
	// Failing closed, the forged checkpoint is never served.
	resp, body := do(t, http.MethodGet, srv.URL+"/log/activity/checkpoint", "", nil)
	wantProblem(t, "GET /log/activity/checkpoint of the rewritten log", resp, body, http.StatusServiceUnavailable, "urn:lbm:problem:not-cosigned")
	srv.stop()
	db = openDB(t, fork)
	var n int
	if err := db.queryRow(t, `SELECT count(*) FROM cosignatures WHERE log = 'activity'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("cosignatures of the rewritten log stored: %d, %v; want none", n, err)
	}
	db.close(t)
}
