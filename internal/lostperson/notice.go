package lostperson

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"civicam/internal/fault"

	"github.com/go-pdf/fpdf"
)

var outcomeLabels = map[Outcome][2]string{
	OutcomeFound:             {"The person was found.", "已找到走失人员。"},
	OutcomeSighted:           {"The person was seen in the footage (place and time below).", "在录像中发现走失人员的行踪（地点和时间见下文）。"},
	OutcomeNoRelevantFootage: {"No relevant footage was found.", "未发现相关录像。"},
}

// DefaultNoticeFonts are where FindNoticeFont looks for a TrueType font with CJK glyphs: Debian's
// fonts-droid-fallback (scripts/install-deps.sh installs it), then the AR PL fonts. Debian's Noto
// CJK fonts are OpenType collections (.ttc), which fpdf cannot embed.
var DefaultNoticeFonts = []string{
	"/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
	"/usr/share/fonts/truetype/droid/DroidSansFallback.ttf",
	"/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
	"/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf",
}

// ErrNoNoticeFont refuses a notice PDF when the server needs Chinese in it and found no font.
var ErrNoNoticeFont error = &fault.Error{Kind: fault.Unavailable, Code: "notice_font_missing",
	Message: "the result notice PDF needs a TrueType CJK font: install fonts-droid-fallback (scripts/install-deps.sh) " +
		"or set applications.notice_font to a .ttf file; the notice is on the application's page meanwhile"}

// FindNoticeFont is the first of paths (DefaultNoticeFonts when none) that exists, or "" if none.
func FindNoticeFont(paths ...string) string {
	if len(paths) == 0 {
		paths = DefaultNoticeFonts
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// NoticePDF renders the result notice of the applicant's own application as a PDF: the
// reference, dates, outcome and the notice's words, nothing else. Before a result is written it
// is ErrState.
func (s *Service) NoticePDF(ctx context.Context, applicantID, id string, w io.Writer) error {
	a, err := s.ownApplication(ctx, applicantID, id)
	if err != nil {
		return err
	}
	if a.Status != StatusCompleted {
		return fmt.Errorf("notice of a %s application: %w", a.Status, ErrState)
	}
	if s.cfg.RequireNoticeFont && len(s.noticeFont) == 0 {
		return ErrNoNoticeFont
	}
	v := s.applicantView(a, nil)
	if err := s.withNotices(ctx, a, v); err != nil {
		return err
	}
	return RenderNoticePDF(w, v, s.noticeFont)
}

// RenderNoticePDF writes the notice in v as a PDF. With fontTTF holding a TrueType font (.ttf)
// with CJK glyphs, Chinese is rendered; without one the notice is set in Helvetica, the Chinese
// lines are left out, and characters outside Windows-1252 in the reviewer's text become "?",
// with a line saying so and pointing to the web page. (fpdf embeds only .ttf: the Noto CJK
// fonts Debian installs are OpenType collections, .ttc, which it refuses.)
func RenderNoticePDF(w io.Writer, v *ApplicantView, fontTTF []byte) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(v.ResultAt)
	pdf.SetModificationDate(v.ResultAt)
	pdf.SetTitle("Result notice "+v.ID, true)
	pdf.SetMargins(20, 20, 20)
	pdf.AddPage()
	cjk := len(fontTTF) > 0
	family := "Helvetica"
	if cjk {
		pdf.AddUTF8FontFromBytes("notice", "", fontTTF)
		family = "notice"
	}
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	lossy := false
	text := func(s string) string {
		if cjk {
			return s
		}
		out, lost := latin1(s, tr)
		lossy = lossy || lost
		return out
	}
	line := func(size float64, h float64, s string) {
		pdf.SetFont(family, "", size)
		pdf.MultiCell(0, h, text(s), "", "L", false)
	}
	if cjk {
		line(16, 9, "走失人员视频查询结果告知书")
	}
	line(16, 9, "Result of your application for a footage search")
	pdf.Ln(4)
	line(11, 6, "Application: "+v.ID)
	line(11, 6, "Submitted: "+v.SubmittedAt.UTC().Format("2006-01-02 15:04 MST"))
	line(11, 6, "Result written: "+v.ResultAt.UTC().Format("2006-01-02 15:04 MST"))
	pdf.Ln(4)
	l, ok := outcomeLabels[v.ResultOutcome]
	if len(v.Notices) > 0 && v.Notices[0].OutcomeLabel != "" {
		l, ok = [2]string{v.Notices[0].OutcomeLabel + ".", v.Notices[0].OutcomeLabelZH + "。"}, true
	}
	if ok {
		line(13, 7, l[0])
		if cjk {
			line(13, 7, l[1])
		}
	}
	if len(v.Notices) > 0 && v.Notices[0].Correction {
		line(11, 6, "This notice corrects the earlier one, which no longer stands.")
		if cjk {
			line(11, 6, "本告知为对先前告知的更正，先前告知不再有效。")
		}
	}
	if !v.ResultLastSightingAt.IsZero() {
		at := v.ResultLastSightingAt.UTC().Format("2006-01-02 15:04 MST")
		line(11, 6, "Last sighting: "+at)
		if cjk {
			line(11, 6, "最后发现时间："+at)
		}
	}
	pdf.Ln(3)
	// The notice's message is the only text of the reviewer's in the PDF, and it was checked
	// (Disclosed) before it was saved.
	line(11, 6, v.ResultNotice)
	pdf.Ln(6)
	line(9, 5, "The police checked the footage themselves, as the regulation requires; no footage, image or information about other people is given out.")
	if cjk {
		line(9, 5, "依照规定，由公安机关查看录像并告知结果，不提供录像、图像及他人信息。")
	}
	if lossy {
		pdf.Ln(3)
		line(9, 5, "Some characters of the notice cannot be shown in this PDF and were replaced by \"?\"; the full text is on the application's web page.")
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("render notice: %w", err)
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("write notice: %w", err)
	}
	return nil
}

// latin1 translates s to Windows-1252 for fpdf's core fonts, replacing what it cannot hold by
// "?" (fpdf's own translator would use "."), and reports whether anything was replaced.
func latin1(s string, tr func(string) string) (string, bool) {
	var b strings.Builder
	lost := false
	for _, r := range s {
		t := tr(string(r))
		if r >= 0x80 && t == "." {
			b.WriteByte('?')
			lost = true
			continue
		}
		b.WriteString(t)
	}
	return b.String(), lost
}
