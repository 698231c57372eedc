package cli_test

import (
	"bufio"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"civicam/internal/config"
	"civicam/internal/segment"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

// takeoverMargin is what a camera's new node needs after it has taken the lease: the RTSP
// connection on loopback and the first keyframe (simcam sends one a second), on a loaded machine.
const takeoverMargin = 3 * time.Second

// TestTakeover runs three real `civicam serve` nodes on one PostgreSQL, recording simulated
// cameras: a node killed with kill -9 has its cameras recorded by the others once its leases
// expire, one stopped with SIGTERM hands them back at once, and no camera is ever recorded by two
// nodes at the same moment. `make bench-takeover` runs it with more cameras and rounds
// (CIVICAM_BENCH_TAKEOVER=cameras, CIVICAM_BENCH_TAKEOVER_ROUNDS) and prints the distributions.
func TestTakeover(t *testing.T) {
	cams, rounds := 12, 1
	if v := os.Getenv("CIVICAM_BENCH_TAKEOVER"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 3 {
			t.Fatalf("CIVICAM_BENCH_TAKEOVER=%q; want a number of cameras, at least 3", v)
		}
		cams = n
	}
	if v := os.Getenv("CIVICAM_BENCH_TAKEOVER_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("CIVICAM_BENCH_TAKEOVER_ROUNDS=%q; want a number of rounds, at least 1", v)
		}
		rounds = n
	}
	c := startCluster(t, cams)
	// The bounds follow from the nodes' configuration, the defaults: a killed node's lease was
	// renewed at most lease_renew before the kill and expires lease_ttl after that renewal; a
	// survivor's next round, at most lease_renew later, takes it. A released lease is taken at
	// the next round.
	rc := config.Default().Recording
	ttl, renew := rc.LeaseTTL.D(), rc.LeaseRenew.D()
	killBound := ttl + renew + takeoverMargin
	termBound := renew + takeoverMargin
	if termBound >= ttl {
		t.Fatalf("graceful bound %v is not under the lease TTL %v; the test would not tell a release from an expiry", termBound, ttl)
	}
	var killed, stopped takeoverFigures
	for r := range rounds {
		if r > 0 {
			c.restartStopped(t)
		}
		c.waitOnePerCamera(t, 3)
		victim := c.nodes[r%3]
		k := c.takeover(t, victim, syscall.SIGKILL, killBound)
		killed.add(k)
		c.waitOnePerCamera(t, 2)
		stopping := c.nodes[(r+1)%3]
		s := c.takeover(t, stopping, syscall.SIGTERM, termBound)
		stopped.add(s)
	}
	c.waitOnePerCamera(t, 1)
	c.checkNoOverlap(t)
	t.Logf("takeover over %d cameras, 3 nodes, %d round(s); lease_ttl %v, lease_renew %v", cams, rounds, ttl, renew)
	t.Logf("%-10s %8s %10s %10s %10s %10s", "", "cameras", "take med", "take max", "gap med", "gap max")
	for _, f := range []struct {
		name string
		f    takeoverFigures
	}{{"kill -9", killed}, {"SIGTERM", stopped}} {
		t.Logf("%-10s %8d %10v %10v %10v %10v", f.name, len(f.f.take), median(f.f.take), slices.Max(f.f.take),
			median(f.f.gap), slices.Max(f.f.gap))
	}
}

// takeoverFigures are, per camera taken over, the time from the signal to the new node's first
// segment, and the recording gap between the old node's last segment and the new one's first.
type takeoverFigures struct{ take, gap []time.Duration }

func (f *takeoverFigures) add(g takeoverFigures) {
	f.take = append(f.take, g.take...)
	f.gap = append(f.gap, g.gap...)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// cluster is three nodes on one database, the simulated cameras they record and the admin's token.
type cluster struct {
	nodes []*clusterNode
	cams  []string
	token string
	db    *sql.DB
}

type clusterNode struct {
	id   string
	data string
	srv  *server
	up   bool
}

func (n *clusterNode) start(t *testing.T) {
	t.Helper()
	n.srv = startServer(t, n.data, "CIVICAM_NODE_ID="+n.id)
	n.up = true
}

var simcamRE = regexp.MustCompile(`(rtsp://[0-9.:]+)/cam/1 `)

// startSimcam runs `civicam simcam` with count cameras and returns its RTSP base URL.
func startSimcam(t *testing.T, count int) string {
	t.Helper()
	cmd := exec.Command(civicamBin, "simcam", "--listen", "127.0.0.1:0", "--count", strconv.Itoa(count))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := simcamRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	select {
	case u := <-found:
		return u
	case <-done:
		t.Fatal("civicam simcam exited before it was ready")
	case <-time.After(30 * time.Second):
		t.Fatal("civicam simcam did not start in 30 s")
	}
	return ""
}

// startCluster starts the cameras and three nodes a, b, c on a fresh PostgreSQL schema, then
// registers the cameras, active and networked, once every node is up (so that the first node
// does not take them all only to hand two thirds back).
func startCluster(t *testing.T, count int) *cluster {
	dsn := storetest.PostgresDSN(t)
	// Every civicam process of the test, serve and the administrative commands, uses it.
	t.Setenv("CIVICAM_POSTGRES_DSN", dsn)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rtsp := startSimcam(t, count)
	root := t.TempDir()
	c := &cluster{db: db}
	for _, id := range []string{"a", "b", "c"} {
		n := &clusterNode{id: id, data: filepath.Join(root, id)}
		if err := os.MkdirAll(n.data, 0o700); err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, n)
	}
	a := c.nodes[0]
	a.start(t)
	// The nodes share the first one's keys, as docs/deploy.md says to copy them.
	for _, key := range []string{"trace.key", "secret.key"} {
		b, err := os.ReadFile(filepath.Join(a.data, key))
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range c.nodes[1:] {
			if err := os.WriteFile(filepath.Join(n.data, key), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, n := range c.nodes[1:] {
		n.start(t)
	}
	if out, code := runCLI(t, "a long admin password\n", "user", "add", "--data", a.data, "--username", "chief", "--role", "admin", "--password-stdin"); code != 0 {
		t.Fatalf("user add = %d: %s", code, out)
	}
	c.token = login(t, a.srv.url, "chief", "a long admin password")
	psb, code := runCLI(t, "", "org", "add", "--data", a.data, "--name", "PSB", "--kind", "department", "--department-type", "public_security")
	if code != 0 {
		t.Fatalf("org add = %d %s", code, psb)
	}
	var csv strings.Builder
	csv.WriteString("name,organisation_id,investment,lat,lon,place_category,status,networked,source_url\n")
	for i := 1; i <= count; i++ {
		// A kilometre apart, so that no field of view is another's duplicate.
		fmt.Fprintf(&csv, "Crossing %d,%s,government,%.3f,113.140,road_intersection,active,true,%s/cam/%d\n",
			i, strings.TrimSpace(psb), 27.0+0.01*float64(i), rtsp, i)
	}
	csvPath := filepath.Join(root, "cams.csv")
	if err := os.WriteFile(csvPath, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, code := runCLI(t, "", "camera", "import", "--data", a.data, csvPath); code != 0 {
		t.Fatalf("camera import = %d %s", code, out)
	}
	code, b := request(t, "GET", a.srv.url+"/api/v1/cameras?limit=1000", c.token, "")
	var list struct {
		Cameras []struct{ ID string } `json:"cameras"`
	}
	if code != 200 || json.Unmarshal(b, &list) != nil {
		t.Fatalf("GET cameras = %d %s", code, b)
	}
	for _, cam := range list.Cameras {
		c.cams = append(c.cams, cam.ID)
	}
	if len(c.cams) != count {
		t.Fatalf("%d cameras registered; want %d", len(c.cams), count)
	}
	return c
}

// recordingState is a node's answer to GET /api/v1/cameras/{id}/recording.
type recordingState struct {
	State        string
	Node         string
	BytesWritten int64 `json:"bytes_written"`
}

func (c *cluster) recording(t *testing.T, n *clusterNode, cam string) recordingState {
	t.Helper()
	code, b := request(t, "GET", n.srv.url+"/api/v1/cameras/"+cam+"/recording", c.token, "")
	var st recordingState
	if code != 200 || json.Unmarshal(b, &st) != nil {
		t.Fatalf("GET recording of %s on %s = %d %s", cam, n.id, code, b)
	}
	return st
}

func (c *cluster) node(id string) *clusterNode {
	for _, n := range c.nodes {
		if n.id == id {
			return n
		}
	}
	return nil
}

// waitOnePerCamera waits until every camera is recorded by exactly one node, the holder of its
// lease (as every node names it), spread over the want live nodes by their fair share.
func (c *cluster) waitOnePerCamera(t *testing.T, want int) map[string]string {
	t.Helper()
	var live []*clusterNode
	for _, n := range c.nodes {
		if n.up {
			live = append(live, n)
		}
	}
	if len(live) != want {
		t.Fatalf("%d nodes up; want %d", len(live), want)
	}
	share := (len(c.cams) + want - 1) / want
	deadline := time.Now().Add(30 * time.Second)
	for {
		holders, why := c.onePerCamera(t, live, share)
		if why == "" {
			return holders
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 30 s not every camera is recorded by exactly one of %d nodes: %s", want, why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *cluster) onePerCamera(t *testing.T, live []*clusterNode, share int) (map[string]string, string) {
	holders := map[string]string{}
	per := map[string]int{}
	for _, cam := range c.cams {
		holder := ""
		recording := 0
		for _, n := range live {
			st := c.recording(t, n, cam)
			if holder == "" {
				holder = st.Node
			} else if st.Node != holder {
				return nil, fmt.Sprintf("camera %s held by %q on one node, %q on another", cam, holder, st.Node)
			}
			if st.State != "not_recording" {
				recording++
				if n.id != holder || st.State != "recording" || st.BytesWritten == 0 {
					return nil, fmt.Sprintf("camera %s is %s on node %s (%d bytes), its lease %q's", cam, st.State, n.id, st.BytesWritten, holder)
				}
			}
		}
		if recording != 1 {
			return nil, fmt.Sprintf("camera %s recorded by %d nodes", cam, recording)
		}
		holders[cam] = holder
		per[holder]++
	}
	for id, k := range per {
		if k > share {
			return nil, fmt.Sprintf("node %s records %d cameras, above its fair share %d", id, k, share)
		}
	}
	return holders, ""
}

// takeover stops node with sig and measures, for each of its cameras, how long after the signal
// another node's first segment of it began (at most bound), and the gap since the stopped
// node's last segment of it.
func (c *cluster) takeover(t *testing.T, node *clusterNode, sig syscall.Signal, bound time.Duration) takeoverFigures {
	t.Helper()
	var mine []string
	for _, cam := range c.cams {
		if c.recording(t, node, cam).Node == node.id {
			mine = append(mine, cam)
		}
	}
	if len(mine) == 0 {
		t.Fatalf("node %s records no camera; nothing to take over", node.id)
	}
	signalled := time.Now()
	node.srv.cmd.Process.Signal(sig)
	select {
	case <-node.srv.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("node %s did not exit 30 s after %v", node.id, sig)
	}
	node.up = false
	exited := time.Since(signalled)
	if sig == syscall.SIGTERM {
		// Handed back before the process ended, not left to expire.
		var n int
		if err := c.db.QueryRow(`SELECT COUNT(*) FROM camera_leases WHERE node_id = $1`, node.id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("node %s still holds %d leases after a graceful stop; want 0", node.id, n)
		}
	}
	first := map[string]time.Time{}
	deadline := signalled.Add(bound + 5*time.Second)
	for len(first) < len(mine) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		for _, cam := range mine {
			if _, ok := first[cam]; ok {
				continue
			}
			var start sql.NullInt64
			if err := c.db.QueryRow(`SELECT MIN(start_at) FROM recordings WHERE camera_id = $1 AND node_id <> $2 AND start_at >= $3`,
				cam, node.id, store.Micros(signalled)).Scan(&start); err != nil {
				t.Fatal(err)
			}
			if start.Valid {
				first[cam] = store.FromMicros(start.Int64)
			}
		}
	}
	var f takeoverFigures
	disk := segment.NewDisk(filepath.Join(node.data, "recordings"))
	for _, cam := range mine {
		got, ok := first[cam]
		if !ok {
			t.Errorf("camera %s of node %s (%v) recorded by no other node %v after the signal; want within %v", cam, node.id, sig, time.Since(signalled).Round(time.Millisecond), bound)
			continue
		}
		take := got.Sub(signalled)
		if take > bound {
			t.Errorf("camera %s of node %s (%v) recorded elsewhere %v after the signal; want at most %v", cam, node.id, sig, take, bound)
		}
		// The old node's last segment: sealed at a graceful stop, left open by a kill, when its
		// end is what its file holds.
		var (
			path       string
			start, end int64
			sealed     bool
		)
		if err := c.db.QueryRow(`SELECT path, start_at, end_at, sealed FROM recordings WHERE camera_id = $1 AND node_id = $2
			ORDER BY start_at DESC LIMIT 1`, cam, node.id).Scan(&path, &start, &end, &sealed); err != nil {
			t.Fatalf("last segment of %s by %s: %v", cam, node.id, err)
		}
		oldEnd := store.FromMicros(end)
		if !sealed {
			info, err := disk.Scan(path)
			if err != nil {
				t.Fatalf("scan %s's open segment %s: %v", node.id, path, err)
			}
			oldEnd = store.FromMicros(start).Add(info.Duration())
		}
		if sig == syscall.SIGTERM && !sealed {
			t.Errorf("camera %s: node %s's last segment %s unsealed after a graceful stop", cam, node.id, path)
		}
		gap := got.Sub(oldEnd)
		if gap < 0 {
			t.Errorf("camera %s recorded by %s until %v and already by another node from %v", cam, node.id, oldEnd, got)
		}
		f.take = append(f.take, take)
		f.gap = append(f.gap, gap)
	}
	how := "kill -9"
	if sig == syscall.SIGTERM {
		how = "SIGTERM"
	}
	t.Logf("%s of node %s (exited after %v): %d cameras taken over, median %v, max %v", how, node.id, exited.Round(time.Millisecond),
		len(f.take), median(f.take), slices.Max(f.take))
	return f
}

// restartStopped starts again the nodes that were stopped, on their data directories.
func (c *cluster) restartStopped(t *testing.T) {
	t.Helper()
	for _, n := range c.nodes {
		if !n.up {
			n.start(t)
		}
	}
}

// checkNoOverlap reads every segment of every camera from the index: of one camera, no two by
// different nodes may overlap in time (a segment a kill left open ends where its file ends).
func (c *cluster) checkNoOverlap(t *testing.T) {
	t.Helper()
	type seg struct {
		node, path string
		start, end time.Time
		sealed     bool
	}
	rows, err := c.db.Query(`SELECT camera_id, node_id, path, start_at, end_at, sealed FROM recordings ORDER BY camera_id, start_at`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byCam := map[string][]seg{}
	for rows.Next() {
		var cam string
		var s seg
		var start, end int64
		if err := rows.Scan(&cam, &s.node, &s.path, &start, &end, &s.sealed); err != nil {
			t.Fatal(err)
		}
		s.start, s.end = store.FromMicros(start), store.FromMicros(end)
		byCam[cam] = append(byCam[cam], s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for cam, segs := range byCam {
		for i := 0; i+1 < len(segs); i++ {
			prev, next := segs[i], segs[i+1]
			if prev.node == next.node {
				continue
			}
			end := prev.end
			if !prev.sealed {
				info, err := segment.NewDisk(filepath.Join(c.node(prev.node).data, "recordings")).Scan(prev.path)
				if err != nil {
					t.Fatalf("scan %s's open segment %s: %v", prev.node, prev.path, err)
				}
				end = prev.start.Add(info.Duration())
			}
			if end.After(next.start) {
				t.Errorf("camera %s recorded by %s until %v and by %s from %v: two nodes at once", cam, prev.node, end, next.node, next.start)
			}
		}
	}
}
