package webui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/registry"
	"civicam/internal/store/storetest"
)

// TestBrowserInspections: a hotel's owner, in chromium, opens the inspections from the menu, sets
// the hotel's plan, records an inspection that found a device with its photo and sees the room
// group never inspected marked overdue; the police then find that group and another hotel
// without a plan in the city-wide overdue list.
func TestBrowserInspections(t *testing.T) {
	skipWithoutBrowser(t)
	db := storetest.SQLite(t)
	st := apitest.New(t, db)
	s := serveStack(t, db, st, stackOpt{with: func(d *Deps) { d.Inspections = st.Inspections }})
	hotel := s.addOrg("湘江宾馆", registry.KindEstablishment, "hotel")
	s.addOrg("河西浴场", registry.KindEstablishment, "public_bath")
	psb := s.addOrg("株洲市公安局", registry.KindDepartment, "public_security")
	s.addUser("hotelowner", auth.RoleOwner, hotel)
	s.addUser("police", auth.RoleReviewer, psb)
	photo := filepath.Join(t.TempDir(), "found.jpg")
	if err := os.WriteFile(photo, jpegWithGPS(t), 0o600); err != nil {
		t.Fatal(err)
	}
	today := time.Now().UTC().Format(time.DateOnly)

	br := newChromium(t, 90*time.Second)
	br.login(s.srv.URL, "hotelowner", "#logout")
	br.do("open the hotel's inspections from the menu",
		chromedp.Click(chromedp.CSS(`nav a[href="/inspections"]`)),
		chromedp.WaitVisible(chromedp.CSS("#inspections-establishments")),
		chromedp.Click(chromedp.CSS(`#inspections-establishments a[href="/inspections/`+hotel+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("#plan-form")),
	)
	br.do("set the plan",
		chromedp.SendKeys(chromedp.CSS("#plan-room-groups"), "2F 客房\n女浴室"),
		chromedp.Click(chromedp.CSS("#plan-submit")),
		chromedp.WaitVisible(chromedp.CSS("#plan-groups")),
		chromedp.WaitVisible(chromedp.CSS("#record-form")),
	)
	br.do("record an inspection that found a device",
		chromedp.SetValue(chromedp.CSS("#record-group"), "2F 客房"),
		chromedp.SetValue(chromedp.CSS("#record-date"), today),
		chromedp.SendKeys(chromedp.CSS("#record-inspector"), "李明"),
		chromedp.Click(chromedp.CSS("#record-found")),
		chromedp.SendKeys(chromedp.CSS("#record-notes"), "烟感内有针孔镜头"),
		chromedp.SetUploadFiles(chromedp.CSS("#record-photo"), []string{photo}),
		chromedp.Click(chromedp.CSS("#record-submit")),
		chromedp.WaitVisible(chromedp.CSS("#inspection-records")),
	)
	if got := br.evalString(`document.querySelector("#inspection-records tbody").innerText`); !strings.Contains(got, "李明") || !strings.Contains(got, "suspected device found") {
		t.Errorf("records read %q; want 李明's inspection that found a device", got)
	}
	if got := br.evalString(`[...document.querySelectorAll("#plan-groups tr.overdue")].map(r => r.dataset.group).join("|")`); got != "女浴室" {
		t.Errorf("overdue room groups = %q; want 女浴室 alone", got)
	}
	br.do("open the record's photo",
		chromedp.Click(chromedp.CSS("#inspection-records a.record-photo")),
		chromedp.WaitReady(chromedp.CSS("img")),
	)
	if w := br.eval(`document.querySelector("img").naturalWidth`); w != 8 {
		t.Errorf("photo width = %v; want 8 (the photo served)", w)
	}
	br.do("back", chromedp.Navigate(s.srv.URL+"/inspections"), chromedp.WaitVisible(chromedp.CSS("#logout")))
	br.logout()

	br.login(s.srv.URL, "police", "#logout")
	br.do("open the city's inspections",
		chromedp.Click(chromedp.CSS(`nav a[href="/inspections"]`)),
		chromedp.WaitVisible(chromedp.CSS("#inspections-overdue")),
	)
	got := br.evalString(`document.querySelector("#inspections-overdue tbody").innerText`)
	for _, want := range []string{"湘江宾馆", "女浴室", "河西浴场"} {
		if !strings.Contains(got, want) {
			t.Errorf("police's overdue list reads %q; want %s in it", got, want)
		}
	}
	if strings.Contains(got, "2F") {
		t.Errorf("police's overdue list reads %q; the group inspected today is not overdue", got)
	}
	if n := br.eval(`document.querySelectorAll("#plan-form, #record-form").length`); n != 0 {
		t.Errorf("forms on the police's list = %v; want none", n)
	}
}
