package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/gb28181/gbdevice"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
)

var gbSeq atomic.Int64

// gbDevice registers a fresh simulated device with n channels (names in GBK) over TCP with the
// stack's platform, waits until its catalog is stored, and returns its id.
// gbChannel is the id gbDevice gave channel i (from 1) of device id.
func gbChannel(id string, i int) string {
	k, _ := strconv.Atoi(id[15:])
	return fmt.Sprintf("43020%03d001310%06d", k%1000, i)
}

func gbDevice(t *testing.T, st *apitest.Stack, n int) string {
	t.Helper()
	k := int(gbSeq.Add(1))
	id := fmt.Sprintf("430200000011800%05d", k)
	chans := make([]gbdevice.Channel, n)
	for i := range chans {
		chans[i] = gbdevice.Channel{ID: fmt.Sprintf("43020%03d001310%06d", k%1000, i+1), Name: fmt.Sprintf("路口%d", i+1)}
	}
	d, err := gbdevice.New(gbdevice.Config{ID: id, Name: "录像机", Server: st.GB.Addr(), ServerID: apitest.GBPlatformID,
		Domain: apitest.GBDomain, Transport: "tcp", Channels: chans}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if _, err := d.Register(context.Background(), 3600); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got, err := st.GB.Device(context.Background(), registry.Scope{All: true}, id)
		if err == nil && len(got.Channels) == n && got.Name != "" {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("device %s: catalog of %d channels never stored (%v)", id, n, err)
		}
	}
}

func TestGB28181DevicesAPI(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		s := newStack(t, db)
		_, adminTok := s.addUser("admin1", auth.RoleAdmin, "")
		orgA := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"PSB","kind":"department","department_type":"public_security"}`))
		orgB := mustCreate(t, s.do("POST", "/api/v1/organisations", adminTok, "", `{"name":"Mall","kind":"enterprise"}`))
		_, opA := s.addUser("opA", auth.RoleOperator, orgA)
		_, opB := s.addUser("opB", auth.RoleOperator, orgB)
		id := gbDevice(t, s.Stack, 3)

		type device struct {
			ID, Name, Status, Transport string
			RemoteAddr                  string `json:"remote_addr"`
			Channels                    []struct {
				ID, Name, Status string
				CameraID         string `json:"camera_id"`
			}
		}
		list := func(tok string) []device {
			res := s.do("GET", "/api/v1/gb28181/devices", tok, "", "")
			if res.status != http.StatusOK {
				t.Fatalf("GET devices = %d %s", res.status, res.body)
			}
			var out struct{ Devices []device }
			if err := json.Unmarshal(res.body, &out); err != nil {
				t.Fatal(err)
			}
			return out.Devices
		}
		ds := list(opB)
		if len(ds) != 1 || ds[0].ID != id || ds[0].Status != "pending" || ds[0].Transport != "tcp" || ds[0].RemoteAddr == "" ||
			ds[0].Name != "录像机" || len(ds[0].Channels) != 3 || ds[0].Channels[0].Name != "路口1" || ds[0].Channels[0].Status != "online" {
			t.Fatalf("devices seen by an operator = %+v; want the pending device with its 3 channels", ds)
		}
		if res := s.do("POST", "/api/v1/gb28181/devices/"+id+"/adopt", opA, "", `{"organisation_id":"`+orgB+`"}`); res.status != http.StatusForbidden {
			t.Errorf("adopt into another organisation = %d %s; want 403", res.status, res.body)
		}
		if res := s.do("POST", "/api/v1/gb28181/devices/"+id+"/adopt", opA, "", `{"organisation_id":"`+orgA+`"}`); res.status != http.StatusOK {
			t.Fatalf("adopt = %d %s", res.status, res.body)
		}
		if ds := list(opB); len(ds) != 0 {
			t.Errorf("devices seen by another organisation's operator after adoption = %+v; want none", ds)
		}
		ds = list(opA)
		if len(ds) != 1 || ds[0].Status != "online" {
			t.Fatalf("devices after adoption = %+v; want it online", ds)
		}
		for _, ch := range ds[0].Channels {
			res := s.do("GET", "/api/v1/cameras/"+ch.CameraID, opA, "", "")
			var cam registry.Camera
			json.Unmarshal(res.body, &cam)
			if res.status != http.StatusOK || cam.GBDeviceID != ch.ID || cam.Status != registry.StatusPlanned || cam.OrganisationID != orgA {
				t.Errorf("camera of channel %s = %d %+v; want planned with gb_device_id, of the organisation", ch.ID, res.status, cam)
			}
		}
		if res := s.do("GET", "/api/v1/gb28181/devices/"+id, opB, "", ""); res.status != http.StatusNotFound {
			t.Errorf("GET another organisation's device = %d; want 404", res.status)
		}
		if res := s.do("POST", "/api/v1/gb28181/devices/"+id+"/catalog", opA, "", ""); res.status != http.StatusAccepted {
			t.Errorf("refresh catalog = %d %s; want 202", res.status, res.body)
		}
		if res := s.do("GET", "/api/v1/gb28181/devices/123", adminTok, "", ""); res.status != http.StatusNotFound {
			t.Errorf("GET a device id that is not 20 digits = %d; want 404", res.status)
		}
	})
}
