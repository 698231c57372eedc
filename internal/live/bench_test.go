package live_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/live"
	"civicam/internal/live/livetest"
	"civicam/internal/recorder"
	"civicam/internal/registry"
)

// BenchmarkTimeToFirstFrame measures, on loopback, the time from a viewer's WHEP offer to the
// first complete keyframe access unit (with SPS and PPS) it receives, i.e. the first frame it
// can decode; side by side with the alternative of opening the camera's RTSP stream directly
// (DESCRIBE to the first keyframe), which is what a viewer without the platform would do. It
// reports the median and the 90th percentile.
func BenchmarkTimeToFirstFrame(b *testing.B) {
	e := newEnv(b, live.Config{}, nil)
	b.Run("whep", func(b *testing.B) {
		var ds []time.Duration
		for b.Loop() {
			randomPhase()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			v, err := livetest.NewViewer(ctx)
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			ss, answer, err := e.svc.Offer(ctx, live.Request{CameraID: camID, Purpose: "bench", User: e.user, TokenHash: e.token, Offer: v.Offer})
			if err != nil {
				b.Fatal(err)
			}
			ss.Start()
			if err := v.Accept(answer); err != nil {
				b.Fatal(err)
			}
			au, err := v.NextKey(ctx)
			if err != nil {
				b.Fatal(err)
			}
			ds = append(ds, au.Received.Sub(t0))
			ss.Close("bench")
			v.Close()
			cancel()
		}
		report(b, ds)
	})
	b.Run("whep-http", func(b *testing.B) {
		// The whole API path: authentication, the access check, the trail entry (synced to
		// disk) before the answer, over HTTP on loopback.
		url, token := e.httpAPI(b)
		var ds []time.Duration
		for b.Loop() {
			randomPhase()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			v, err := livetest.NewViewer(ctx)
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			req, _ := http.NewRequest("POST", url+"?purpose=bench", strings.NewReader(v.Offer))
			req.Header.Set("Content-Type", "application/sdp")
			req.Header.Set("Authorization", "Bearer "+token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			answer, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusCreated {
				b.Fatalf("POST whep = %d %s", res.StatusCode, answer)
			}
			if err := v.Accept(string(answer)); err != nil {
				b.Fatal(err)
			}
			au, err := v.NextKey(ctx)
			if err != nil {
				b.Fatal(err)
			}
			ds = append(ds, au.Received.Sub(t0))
			v.Close()
			cancel()
		}
		report(b, ds)
	})
	b.Run("rtsp-direct", func(b *testing.B) {
		var ds []time.Duration
		for b.Loop() {
			randomPhase()
			d, err := rtspFirstKeyframe(e.camURL)
			if err != nil {
				b.Fatal(err)
			}
			ds = append(ds, d)
		}
		report(b, ds)
	})
}

// randomPhase waits a random part of the camera's one-second keyframe interval, so that the
// requests do not all fall at the same point of it (each would otherwise start right after the
// keyframe that ended the previous one).
func randomPhase() { time.Sleep(time.Duration(rand.Int64N(int64(time.Second)))) }

// httpAPI serves the API, with this env's recorder and live service, on loopback, with the
// camera registered, and returns the camera's WHEP URL and an admin's token.
func (e *env) httpAPI(b *testing.B) (string, string) {
	b.Helper()
	st := apitest.New(b, e.db)
	api := st.NewAPI(b, apitest.Parts{Recorder: e.rec, Live: e.svc})
	srv := httptest.NewServer(api.Handler())
	b.Cleanup(srv.Close)
	org := &registry.Organisation{Name: "PSB", Kind: registry.KindDepartment, DepartmentType: "public_security"}
	if err := st.Registry.CreateOrganisation(apitest.SetupCtx, org); err != nil {
		b.Fatal(err)
	}
	name, inv, cat, lat, lon := "Gate", registry.InvestmentGovernment, "public_square", 27.83, 113.15
	cam, err := st.Registry.CreateCamera(apitest.SetupCtx, registry.Scope{All: true}, &registry.CameraInput{
		Name: &name, OrganisationID: &org.ID, Investment: &inv, Lat: &lat, Lon: &lon, PlaceCategory: &cat, SourceURL: &e.camURL})
	if err != nil {
		b.Fatal(err)
	}
	e.rec.Sync([]recorder.Camera{{ID: camID, SourceURL: e.camURL, Transport: recorder.TransportTCP},
		{ID: cam.ID, SourceURL: e.camURL, Transport: recorder.TransportTCP}})
	waitFor(b, "the registered camera to be recorded", func() bool {
		st, ok := e.rec.Status(cam.ID)
		return ok && st.State == recorder.StateRecording
	})
	st.AddUser(b, "bench", auth.RoleAdmin, "")
	res, err := http.Post(srv.URL+"/api/v1/sessions", "application/json", strings.NewReader(`{"username":"bench","password":"`+apitest.Password+`"}`))
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var login struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&login); err != nil || login.Token == "" {
		b.Fatalf("login = %d, %v", res.StatusCode, err)
	}
	return srv.URL + "/api/v1/cameras/" + cam.ID + "/whep", login.Token
}

func report(b *testing.B, ds []time.Duration) {
	slices.Sort(ds)
	if len(ds) == 0 {
		return
	}
	b.ReportMetric(float64(ds[len(ds)/2])/1e6, "ms-median")
	b.ReportMetric(float64(ds[len(ds)*9/10])/1e6, "ms-p90")
	b.ReportMetric(0, "ns/op")
}

// rtspFirstKeyframe opens url and times DESCRIBE to the first complete IDR access unit.
func rtspFirstKeyframe(url string) (time.Duration, error) {
	u, err := base.ParseURL(url)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Protocol: ptr(gortsplib.ProtocolTCP)}
	if err := c.Start(); err != nil {
		return 0, err
	}
	defer c.Close()
	desc, _, err := c.Describe(u)
	if err != nil {
		return 0, err
	}
	var f *format.H264
	medi := desc.FindFormat(&f)
	if medi == nil {
		return 0, errors.New("no h264")
	}
	dec, err := f.CreateDecoder()
	if err != nil {
		return 0, err
	}
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		return 0, err
	}
	got := make(chan time.Duration, 1)
	c.OnPacketRTP(medi, f, func(p *rtp.Packet) {
		au, err := dec.Decode(p)
		if err != nil && !errors.Is(err, rtph264.ErrMorePacketsNeeded) {
			return
		}
		if au != nil && h264.IsRandomAccess(au) {
			select {
			case got <- time.Since(t0):
			default:
			}
		}
	})
	if _, err := c.Play(nil); err != nil {
		return 0, err
	}
	select {
	case d := <-got:
		return d, nil
	case <-time.After(10 * time.Second):
		return 0, errors.New("no keyframe in 10 s")
	}
}

func ptr[T any](v T) *T { return &v }
