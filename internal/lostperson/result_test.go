package lostperson_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"civicam/internal/auth"
	"civicam/internal/fault"
	"civicam/internal/lostperson"
	"civicam/internal/registry"
	"civicam/internal/store"
	"civicam/internal/store/storetest"
	"civicam/internal/trace"
)

// reviewerOf creates a reviewer of an organisation.
func (e *env) reviewerOf(name, org string) *auth.User {
	e.t.Helper()
	u := &auth.User{ID: registry.NewID(), Username: name, PasswordHash: "x", Role: auth.RoleReviewer, OrganisationID: org, CreatedAt: t0, UpdatedAt: t0}
	if err := e.db.CreateUser(e.ctx, u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// TestResultNotice: a leaking message is refused; a draft is sent only on the approval of a
// second reviewer of the author's organisation; a correction supersedes the sent notice and
// the applicant sees both, marked; every step is traced.
func TestResultNotice(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, lostperson.Config{})
		other := &registry.Organisation{Name: "Other PSB", Kind: "department", DepartmentType: "public_security"}
		if err := e.reg.CreateOrganisation(e.ctx, other); err != nil {
			t.Fatal(err)
		}
		applicant := e.user("citizen", auth.RoleApplicant)
		author := e.reviewerOf("author", e.org)
		second := e.reviewerOf("second", e.org)
		outsider := e.reviewerOf("outsider", other.ID)
		a := e.submit(applicant, "elderly", 27.83, 113.15)
		if _, err := e.decide(author, a.ID, true, "ok"); err != nil {
			t.Fatal(err)
		}

		leaks := []string{
			"Seen on camera 3f2a9c1e-8b7d-4e6f-9a1b-2c3d4e5f6a7b",
			"See https://civicam.example/api/v1/cameras/x/playback.mp4",
			"a woman in a grey coat, about 40, got into 湘B12345",
			"The clip x.mp4 shows him.",
			"He is at 27.83, 113.15.",
		}
		for _, msg := range leaks {
			_, err := e.svc.DraftNotice(e.as(author), a.ID, lostperson.NoticeInput{Outcome: "sighted", Message: msg})
			var de *lostperson.DisclosureError
			fe, _ := fault.As(err)
			if !errors.As(err, &de) || fe == nil || fe.Kind != fault.Refused || fe.Field != "message" {
				t.Errorf("DraftNotice(%q) = %v; want a Refused DisclosureError on message", msg, err)
			}
		}
		if _, err := e.svc.DraftNotice(e.as(author), a.ID, lostperson.NoticeInput{Outcome: "flew_away", Message: "x"}); err == nil {
			t.Errorf("DraftNotice(outcome not in the pack) = nil; want refused")
		}
		future := t0.Add(time.Hour)
		if _, err := e.svc.DraftNotice(e.as(author), a.ID, lostperson.NoticeInput{Outcome: "sighted", Message: "Seen near the park.", LastSightingAt: &future}); err == nil {
			t.Errorf("DraftNotice(sighting in the future) = nil; want refused")
		}
		long := t0.Add(-30 * 24 * time.Hour)
		if _, err := e.svc.DraftNotice(e.as(author), a.ID, lostperson.NoticeInput{Outcome: "sighted", Message: "Seen near the park.", LastSightingAt: &long}); err == nil {
			t.Errorf("DraftNotice(sighting a month before the window) = nil; want refused")
		}
		seen := t0.Add(-30 * time.Minute)
		if _, err := e.svc.DraftNotice(e.as(author), a.ID, lostperson.NoticeInput{Outcome: "no_relevant_footage", Message: "Nothing.", LastSightingAt: &seen}); err == nil {
			t.Errorf("DraftNotice(no_relevant_footage with a sighting) = nil; want refused")
		}

		n, err := e.svc.DraftNotice(e.as(author), a.ID, lostperson.NoticeInput{Outcome: "sighted", Message: "Your father was seen walking north near the east gate of the park.", LastSightingAt: &seen})
		if err != nil {
			t.Fatal(err)
		}
		if r := e.trail.last(); r.Action != trace.ActionNoticeDraft || r.Reference != a.ID {
			t.Errorf("traced %+v; want notice_draft of %s", r, a.ID)
		}
		v, err := e.svc.ForApplicant(e.ctx, applicant.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != lostperson.StatusAccepted || v.ResultNotice != "" || len(v.Notices) != 0 {
			t.Fatalf("applicant view with a draft = %+v; want accepted, no notice", v)
		}
		var buf bytes.Buffer
		if err := e.svc.NoticePDF(e.ctx, applicant.ID, a.ID, &buf); !errors.Is(err, lostperson.ErrState) {
			t.Errorf("NoticePDF of a draft = %v; want ErrState", err)
		}

		for _, tc := range []struct {
			name string
			who  *auth.User
		}{{"the author", author}, {"another organisation", outsider}} {
			_, err := e.svc.ApproveNotice(e.as(tc.who), a.ID, n.ID)
			if !errors.Is(err, lostperson.ErrNoticeApprover) || !errors.Is(err, fault.ErrForbidden) {
				t.Errorf("ApproveNotice by %s = %v; want ErrNoticeApprover (forbidden)", tc.name, err)
			}
			if r := e.trail.last(); r.Action != trace.ActionNoticeApprove || r.Outcome != trace.Denied {
				t.Errorf("traced %+v; want a denied notice_approve", r)
			}
		}
		if _, err := e.svc.ApproveNotice(e.as(second), a.ID, n.ID); err != nil {
			t.Fatalf("ApproveNotice by a second reviewer = %v", err)
		}
		if r := e.trail.last(); r.Action != trace.ActionNoticeApprove || r.Outcome != trace.Allowed {
			t.Errorf("traced %+v; want an allowed notice_approve", r)
		}
		if _, err := e.svc.ApproveNotice(e.as(second), a.ID, n.ID); !errors.Is(err, lostperson.ErrState) {
			t.Errorf("ApproveNotice twice = %v; want ErrState", err)
		}
		v, err = e.svc.ForApplicant(e.ctx, applicant.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != lostperson.StatusCompleted || v.ResultOutcome != "sighted" || len(v.Notices) != 1 || v.Notices[0].Correction || !v.ResultLastSightingAt.Equal(seen) {
			t.Fatalf("applicant view once sent = %+v; want completed with one notice and the sighting", v)
		}

		// The correction: drafted and approved alike; the old notice is superseded.
		c, err := e.svc.DraftNotice(e.as(second), a.ID, lostperson.NoticeInput{Outcome: "found", Message: "Correction: your father was found safe and is at the station."})
		if err != nil {
			t.Fatal(err)
		}
		if c.Supersedes != n.ID {
			t.Errorf("correction supersedes %q; want %q", c.Supersedes, n.ID)
		}
		if _, err := e.svc.ApproveNotice(e.as(second), a.ID, c.ID); !errors.Is(err, lostperson.ErrNoticeApprover) {
			t.Errorf("ApproveNotice of a correction by its author = %v; want ErrNoticeApprover", err)
		}
		if _, err := e.svc.ApproveNotice(e.as(author), a.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		v, err = e.svc.ForApplicant(e.ctx, applicant.ID, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if v.ResultOutcome != "found" || len(v.Notices) != 2 || !v.Notices[0].Correction || v.Notices[0].Superseded ||
			!v.Notices[1].Superseded || v.Notices[1].ID != n.ID {
			t.Fatalf("applicant view after the correction = %+v; want the correction first, the old one superseded", v.Notices)
		}
	})
}

// TestRequiredDocuments: an application is accepted only with the pack's documents uploaded or
// recorded as shown in person (traced with the kind); the refusal names the missing ones.
func TestRequiredDocuments(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, lostperson.Config{})
		applicant := e.user("citizen", auth.RoleApplicant)
		rev := e.user("officer", auth.RoleReviewer)
		a := e.submit(applicant, "elderly", 27.83, 113.15)
		_, err := e.svc.Decide(e.as(rev), a.ID, true, "ok")
		fe, _ := fault.As(err)
		if !errors.Is(err, lostperson.ErrDocumentsMissing) || fe == nil || fe.Kind != fault.Refused || fe.Field != "documents" {
			t.Fatalf("Decide(accept, no documents) = %v; want a Refused ErrDocumentsMissing", err)
		}
		png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
		if _, err := e.svc.AddDocument(e.as(applicant), applicant.ID, a.ID, lostperson.DocIdentity, bytes.NewReader(png)); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Decide(e.as(rev), a.ID, true, "ok")
		if fe, _ := fault.As(err); !errors.Is(err, lostperson.ErrDocumentsMissing) || !bytes.Contains([]byte(fe.Message), []byte("relationship")) ||
			bytes.Contains([]byte(fe.Message), []byte("identity")) {
			t.Fatalf("Decide(accept, identity only) = %v; want the relationship document named, not the identity", err)
		}
		if _, err := e.svc.RecordShown(e.as(rev), a.ID, "passport_photo", ""); err == nil {
			t.Errorf("RecordShown(kind not in the pack) = nil; want refused")
		}
		e.trail.fail = true
		if _, err := e.svc.RecordShown(e.as(rev), a.ID, lostperson.DocRelationship, "household register"); !errors.Is(err, trace.ErrUnavailable) {
			t.Errorf("RecordShown with the trail down = %v; want ErrUnavailable", err)
		}
		e.trail.fail = false
		if _, err := e.svc.Decide(e.as(rev), a.ID, true, "ok"); !errors.Is(err, lostperson.ErrDocumentsMissing) {
			t.Fatalf("Decide after an untraced RecordShown = %v; want still missing", err)
		}
		if _, err := e.svc.RecordShown(e.as(rev), a.ID, lostperson.DocRelationship, "household register"); err != nil {
			t.Fatal(err)
		}
		if r := e.trail.last(); r.Action != trace.ActionDocumentShown || r.Reference != a.ID || !bytes.Contains([]byte(r.Reason), []byte("relationship")) {
			t.Errorf("traced %+v; want document_shown naming the relationship document", r)
		}
		v, err := e.svc.Decide(e.as(rev), a.ID, true, "ok")
		if err != nil {
			t.Fatalf("Decide with both documents = %v", err)
		}
		if v.Status != lostperson.StatusAccepted {
			t.Errorf("status = %s; want accepted", v.Status)
		}
	})
}

// TestPersonalDataTracedFirst: an application, a document and an applicant's contact are not
// served when the trail cannot record the look.
func TestPersonalDataTracedFirst(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, lostperson.Config{})
		applicant := e.user("citizen", auth.RoleApplicant)
		rev := e.user("officer", auth.RoleReviewer)
		a := e.submit(applicant, "elderly", 27.83, 113.15)
		png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 100)...)
		d, err := e.svc.AddDocument(e.as(applicant), applicant.ID, a.ID, lostperson.DocIdentity, bytes.NewReader(png))
		if err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			name   string
			action trace.Action
			do     func() error
		}{
			{"application", trace.ActionApplicationRead, func() error { _, err := e.svc.ForReviewer(e.as(rev), a.ID); return err }},
			{"document", trace.ActionDocumentRead, func() error {
				_, f, err := e.svc.OpenDocument(e.as(rev), a.ID, d.ID)
				if f != nil {
					f.Close()
				}
				return err
			}},
			{"contact", trace.ActionContactRead, func() error { _, err := e.svc.ContactFor(e.as(rev), a.ID); return err }},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				e.trail.fail = true
				if err := st.do(); !errors.Is(err, trace.ErrUnavailable) {
					t.Errorf("%s with the trail down = %v; want ErrUnavailable, nothing served", st.name, err)
				}
				e.trail.fail = false
				err := st.do()
				if err != nil && !errors.Is(err, lostperson.ErrNotFound) { // an applicant made in a test has no contact
					t.Fatalf("%s = %v", st.name, err)
				}
				if r := e.trail.last(); r.Action != st.action || r.Reference != a.ID {
					t.Errorf("traced %+v; want %s of %s", r, st.action, a.ID)
				}
			})
		}
	})
}

// TestNoticePDFChinese renders a sent correction with the CJK font install-deps provides and
// reads it back with pdftotext: the Chinese is there, and of the reviewers' words only the
// checked message (no finding, no decision reason, no reviewer).
func TestNoticePDFChinese(t *testing.T) {
	font := lostperson.FindNoticeFont()
	pdftotext, err := exec.LookPath("pdftotext")
	if font == "" || err != nil {
		t.Skip("needs a CJK TrueType font and pdftotext: run scripts/install-deps.sh")
	}
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, lostperson.Config{NoticeFont: font, RequireNoticeFont: true})
		applicant := e.user("citizen", auth.RoleApplicant)
		author, second := e.reviewerOf("author-zhang", e.org), e.reviewerOf("second-li", e.org)
		a := e.submit(applicant, "elderly", 27.83, 113.15)
		if _, err := e.decide(author, a.ID, true, "decision-reason-internal"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AddFinding(e.as(author), a.ID, "finding-internal 湘B12345"); err != nil {
			t.Fatal(err)
		}
		seen := t0.Add(-20 * time.Minute)
		for i, msg := range []string{"您的父亲在公园东门附近出现，向北步行。", "更正：您的父亲已被找到，人员安全，现在派出所。"} {
			n, err := e.svc.DraftNotice(e.as(author), a.ID, lostperson.NoticeInput{Outcome: []string{"sighted", "found"}[i], Message: msg, LastSightingAt: &seen})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.ApproveNotice(e.as(second), a.ID, n.ID); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if err := e.svc.NoticePDF(e.ctx, applicant.ID, a.ID, &buf); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "notice.pdf")
		if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pdftotext, "-enc", "UTF-8", path, "-").Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		text := strings.Join(strings.Fields(string(out)), "")
		for _, want := range []string{"走失人员视频查询结果告知书", "更正：您的父亲已被找到，人员安全，现在派出所。", "已找到，人员安全", "本告知为对先前告知的更正", "最后发现时间"} {
			if !strings.Contains(text, want) {
				t.Errorf("notice PDF text lacks %q:\n%s", want, out)
			}
		}
		for _, not := range []string{"公园东门", "decision-reason-internal", "finding-internal", "湘B12345", "author-zhang", "second-li", author.ID, second.ID} {
			if strings.Contains(text, not) {
				t.Errorf("notice PDF holds %q:\n%s", not, out)
			}
		}
	})
	t.Run("no font", func(t *testing.T) {
		db := storetest.SQLite(t)
		e := newEnv(t, db, lostperson.Config{RequireNoticeFont: true})
		applicant := e.user("citizen", auth.RoleApplicant)
		rev := e.user("officer", auth.RoleReviewer)
		a := e.submit(applicant, "elderly", 27.83, 113.15)
		if _, err := e.decide(rev, a.ID, true, "ok"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.writeResult(rev, a.ID, lostperson.OutcomeFound, "已找到。"); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.NoticePDF(e.ctx, applicant.ID, a.ID, io.Discard); !errors.Is(err, lostperson.ErrNoNoticeFont) {
			t.Errorf("NoticePDF without a font = %v; want ErrNoNoticeFont", err)
		}
	})
}
