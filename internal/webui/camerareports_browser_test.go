package webui

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/store/storetest"
)

// TestBrowserCameraReport: an anonymous visitor reports a suspected hidden camera through the
// page, keeps the receipt, and reads the police's outcome by it; the page counts the report.
func TestBrowserCameraReport(t *testing.T) {
	skipWithoutBrowser(t)
	db := storetest.SQLite(t)
	st := apitest.New(t, db)
	s := serveStack(t, db, st, stackOpt{with: func(d *Deps) { d.Inspections = st.Inspections }})
	b := newChromium(t, 60*time.Second)
	var receipt string
	b.do("report a camera",
		chromedp.Navigate(s.srv.URL+"/report-camera"),
		chromedp.WaitVisible(chromedp.CSS("#camera-report-form")),
		chromedp.SendKeys(chromedp.CSS("#report-place"), "Hotel X room 305"),
		chromedp.SendKeys(chromedp.CSS("#report-description"), "a lens in the smoke detector"),
		chromedp.Click(chromedp.CSS("#report-submit")),
		chromedp.WaitVisible(chromedp.CSS("#receipt-code")),
	)
	receipt = b.evalString(`document.querySelector("#receipt-code").textContent`)
	if len(receipt) != 23 {
		t.Fatalf("receipt = %q; want a 23-character code", receipt)
	}
	if got := b.evalString(`document.querySelector("#camera-report-counts").textContent`); !strings.Contains(got, "1") {
		t.Errorf("counts = %q; want 1 report", got)
	}
	rs, err := st.Inspections.Reports(apitest.SetupCtx, &auth.User{ID: "setup", Role: auth.RoleAdmin}, "", 0)
	if err != nil || len(rs) != 1 {
		t.Fatalf("Reports = %d, %v; want 1", len(rs), err)
	}
	b.do("look the report up by its receipt",
		chromedp.Navigate(s.srv.URL+"/report-camera"),
		chromedp.WaitVisible(chromedp.CSS("#camera-report-lookup")),
		chromedp.SendKeys(chromedp.CSS("#lookup-receipt"), receipt),
		chromedp.Click(chromedp.CSS("#lookup-submit")),
		chromedp.WaitVisible(chromedp.CSS("#status-value")),
	)
	if got := b.evalString(`document.querySelector("#camera-report-status").textContent`); got == "" || strings.Contains(got, "Hotel") {
		t.Errorf("status by receipt = %q; want the status and nothing of the report", got)
	}
}
