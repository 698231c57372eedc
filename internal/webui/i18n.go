package webui

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The message catalogues, one JSON object per language: key → text (fmt verbs allowed).
var languages = []string{"zh", "en"}

// defaultLanguage serves a Chinese city.
const defaultLanguage = "zh"

// LangCookie keeps a visitor's choice from the language switch.
const LangCookie = "civicam_lang"

type catalogue map[string]map[string]string

// loadCatalogue reads the embedded catalogues and refuses one that lacks a key another has, so a
// missing translation is caught at start, not shown to a user as a bare key.
func loadCatalogue() (catalogue, error) {
	c := catalogue{}
	for _, l := range languages {
		b, err := messageFS.ReadFile("messages/" + l + ".json")
		if err != nil {
			return nil, fmt.Errorf("webui: catalogue %s: %w", l, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("webui: catalogue %s: %w", l, err)
		}
		c[l] = m
	}
	for _, a := range languages {
		for _, b := range languages {
			for k := range c[a] {
				if _, ok := c[b][k]; !ok {
					return nil, fmt.Errorf("webui: catalogue %s lacks %q (present in %s)", b, k, a)
				}
			}
		}
	}
	return c, nil
}

// keys lists the catalogue's keys, sorted.
func (c catalogue) keys() []string {
	return slices.Sorted(maps.Keys(c[defaultLanguage]))
}

// Messages is one language of the catalogue, as templates use it: {{.L.T "key" args…}}.
type Messages struct {
	Lang string // "zh" or "en"
	m    map[string]string
	loc  *time.Location // the pack's zone, for the pages that show local time (nil: UTC)
}

// T translates key, formatting args into it. An unknown key shows itself, so it is noticed.
func (m Messages) T(key string, args ...any) string {
	s, ok := m.m[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return s
	}
	return fmt.Sprintf(s, args...)
}

// Label translates prefix.value when the catalogue has it, else shows the value itself (a code
// or category a newer policy pack added).
func (m Messages) Label(prefix, value string) string {
	if s, ok := m.m[prefix+"."+value]; ok {
		return s
	}
	return value
}

// HTMLLang is the page's lang attribute.
func (m Messages) HTMLLang() string {
	if m.Lang == "zh" {
		return "zh-CN"
	}
	return m.Lang
}

// Time formats a time for the reader: UTC, to the second.
func (m Messages) Time(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

// language picks the language of a response: the visitor's own choice, then the configured
// language, then the browser's Accept-Language, then Chinese.
func (u *UI) language(r *http.Request) string {
	if c, err := r.Cookie(LangCookie); err == nil && slices.Contains(languages, c.Value) {
		return c.Value
	}
	if u.cfg.Language != "" {
		return u.cfg.Language
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

func (u *UI) messages(r *http.Request) Messages {
	l := u.language(r)
	return Messages{Lang: l, m: u.cat[l], loc: u.reg.Pack().Location()}
}

// acceptLanguage picks zh or en from an Accept-Language header by quality, defaulting to zh.
func acceptLanguage(h string) string {
	type choice struct {
		lang string
		q    float64
		pos  int
	}
	var cs []choice
	for i, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if q > 0 && slices.Contains(languages, primary) {
			cs = append(cs, choice{primary, q, i})
		}
	}
	if len(cs) == 0 {
		return defaultLanguage
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].q > cs[b].q })
	return cs[0].lang
}

// switchLanguage remembers the visitor's language and goes back to the page it came from.
func (u *UI) switchLanguage(w http.ResponseWriter, r *http.Request) error {
	l := r.PathValue("lang")
	if !slices.Contains(languages, l) {
		return errNotFound
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, Secure: u.secureCookies(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, localPath(r.URL.Query().Get("next"), "/"), http.StatusSeeOther)
	return nil
}

// localPath returns p if it is a path on this site, else def: redirects never leave the site.
// Browsers drop tabs and newlines from a URL and read a backslash as a slash before they resolve
// it, so "/\t/evil.example" would take them to another origin: any control character, space or
// backslash refuses p, and so does whatever still parses with a scheme or a host.
func localPath(p, def string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") {
		return def
	}
	for _, c := range p {
		if c <= ' ' || c == 0x7f || c == '\\' || unicode.IsSpace(c) || unicode.IsControl(c) {
			return def
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return def
	}
	return p
}
