package webui

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"civicam/internal/auth"
	"civicam/internal/httpapi/apitest"
	"civicam/internal/store/storetest"
)

// consultationStack is the web UI over a stack whose clock the test moves, the UI's too.
func consultationStack(t *testing.T) (*stack, *apitest.Stack) {
	t.Helper()
	db := storetest.SQLite(t)
	st := apitest.New(t, db)
	s := serveStack(t, db, st, stackOpt{with: func(d *Deps) { d.Now = st.Clock.Now }})
	return s, st
}

var receiptCode = regexp.MustCompile(`id="receipt-code">([A-Z2-7]{16})<`)

// TestConsultationPages walks the consultation pages in both languages: an admin publishes a
// draft, an anonymous reader sends an opinion and gets a receipt, the final form is offered only
// after the deadline and refused while an opinion is unanswered, a reviewer answers, the admin
// publishes the final, and the receipt shows the answer.
func TestConsultationPages(t *testing.T) {
	s, st := consultationStack(t)
	s.addUser("admin1", auth.RoleAdmin, "")
	s.addUser("rev1", auth.RoleReviewer, "")
	admin, rev, anon := s.loggedIn("admin1"), s.loggedIn("rev1"), s.browser()
	anon.header.Set("Accept-Language", "en")

	deadline := st.Clock.Now().UTC().Add(24 * time.Hour).Format("2006-01-02T15:04")
	res := admin.post("/consultations", url.Values{"title": {"寻人程序草案"}, "draft": {"第一条 向派出所申请。"}, "deadline": {deadline}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("POST /consultations = %d; want 303\n%s", res.status, res.body)
	}
	page := res.res.Header.Get("Location")
	anon.header.Set("Accept-Language", "zh")
	zh := anon.get("/consultations")
	mustContain(t, "list (zh)", zh.body, "公开征求意见", "寻人程序草案", "征求意见中")
	mustNotContain(t, "list for the public", zh.body, `id="consultation-form"`)
	anon.header.Set("Accept-Language", "en")
	en := anon.get(page)
	mustContain(t, "record (en)", en.body, "Send an opinion", `id="opinion-form"`, "第一条 向派出所申请。", "Opinions: 0, unanswered: 0")
	mustNotContain(t, "record for the public", en.body, `id="final-form"`, "answer-form")

	sent := anon.post(page+"/opinions", url.Values{"text": {"Let people apply online <b>too</b>."}})
	m := receiptCode.FindStringSubmatch(sent.body)
	if sent.status != http.StatusCreated || m == nil {
		t.Fatalf("POST opinion = %d; want 201 with a receipt\n%s", sent.status, sent.body)
	}
	mustContain(t, "record after the opinion", sent.body, "Let people apply online &lt;b&gt;too&lt;/b&gt;.", "Not answered yet.")

	st.Clock.Advance(25 * time.Hour)
	ap := admin.get(page)
	mustContain(t, "record for the admin after the deadline", ap.body, `id="final-form"`)
	mustNotContain(t, "record after the deadline", ap.body, `id="opinion-form"`)
	refused := admin.post(page+"/final", url.Values{"final": {"F"}})
	if refused.status != http.StatusConflict {
		t.Errorf("POST final with an opinion unanswered = %d; want 409", refused.status)
	}
	mustContain(t, "refused final", refused.body, "not answered yet")

	rp := rev.get(page)
	oid := regexp.MustCompile(`/opinions/([0-9a-f]{32})/answer`).FindStringSubmatch(rp.body)
	if oid == nil {
		t.Fatalf("the reviewer's record page has no answer form\n%s", rp.body)
	}
	if res := rev.post(page+"/opinions/"+oid[1]+"/answer", url.Values{"verdict": {"adopted"}, "answer": {"Online applications added."}}); res.status != http.StatusSeeOther {
		t.Fatalf("POST answer = %d; want 303\n%s", res.status, res.body)
	}
	if res := admin.post(page+"/final", url.Values{"final": {"第零条 可在线申请。"}}); res.status != http.StatusSeeOther {
		t.Fatalf("POST final = %d; want 303\n%s", res.status, res.body)
	}
	look := anon.post("/consultations/receipt", url.Values{"receipt": {m[1]}})
	mustContain(t, "receipt lookup", look.body, `id="receipt-verdict">Adopted<`, "Online applications added.", "第零条 可在线申请。", "Final version")
	if got := anon.post("/consultations/receipt", url.Values{"receipt": {"AAAAAAAAAAAAAAAA"}}); got.status != http.StatusNotFound {
		t.Errorf("a wrong receipt = %d; want 404", got.status)
	}
}

// TestBrowserConsultation drives chromium through the consultation page: an anonymous reader
// sends an opinion and is shown its receipt; after the reviewer's answer the receipt shows it.
func TestBrowserConsultation(t *testing.T) {
	skipWithoutBrowser(t)
	s, st := consultationStack(t)
	s.addUser("rev1", auth.RoleReviewer, "")
	s.addUser("admin1", auth.RoleAdmin, "")
	ab := s.loggedIn("admin1")
	deadline := st.Clock.Now().UTC().Add(24 * time.Hour).Format("2006-01-02T15:04")
	res := ab.post("/consultations", url.Values{"title": {"Lost-person procedure"}, "draft": {"1. Apply at a station."}, "deadline": {deadline}})
	page := res.res.Header.Get("Location")

	br := newChromium(t, 60*time.Second)
	br.do("send an opinion",
		chromedp.Navigate(s.srv.URL+"/consultations"),
		chromedp.WaitVisible(chromedp.CSS("#consultations-table")),
		chromedp.Click(chromedp.CSS("#consultations-table a")),
		chromedp.WaitVisible(chromedp.CSS("#opinion-form")),
		chromedp.SendKeys(chromedp.CSS("#opinion-text"), "Answer within two hours for children."),
		chromedp.Click(chromedp.CSS("#opinion-submit")),
		chromedp.WaitVisible(chromedp.CSS("#receipt-code")),
	)
	code := br.evalString(`document.querySelector("#receipt-code").textContent`)
	if !regexp.MustCompile(`^[A-Z2-7]{16}$`).MatchString(code) {
		t.Fatalf("receipt code = %q; want 16 base32 characters", code)
	}
	if n := br.eval(`document.querySelectorAll("#opinions .opinion").length`); n != 1 {
		t.Errorf("opinions shown = %v; want 1", n)
	}

	br.login(s.srv.URL, "rev1", "#logout")
	br.do("answer it",
		chromedp.Navigate(s.srv.URL+page),
		chromedp.WaitVisible(chromedp.CSS(".answer-form")),
		chromedp.SetValue(chromedp.CSS(".answer-form select"), "partly_adopted"),
		chromedp.SendKeys(chromedp.CSS(".answer-form textarea"), "Four hours: the pack sets it."),
		chromedp.Click(chromedp.CSS(".answer-form button")),
		chromedp.WaitVisible(chromedp.CSS("#opinions .answer")),
	)
	br.logout()
	br.do("read the answer by receipt",
		chromedp.Navigate(s.srv.URL+page),
		chromedp.WaitVisible(chromedp.CSS("#receipt-form")),
		chromedp.SendKeys(chromedp.CSS("#receipt-input"), code),
		chromedp.Click(chromedp.CSS("#receipt-submit")),
		chromedp.WaitVisible(chromedp.CSS("#receipt-verdict")),
	)
	if got := br.evalString(`document.querySelector("#receipt-result").textContent`); !regexp.MustCompile(`Four hours: the pack sets it\.`).MatchString(got) {
		t.Errorf("receipt result = %q; want the answer", got)
	}
}
