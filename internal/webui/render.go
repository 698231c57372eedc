package webui

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"

	"civicam/internal/auth"
)

// parseTemplates parses each page template together with the layout it fills.
func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{"query": query, "pct": pct}
	layout, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("webui: layout: %w", err)
	}
	// Partials shared by several pages are parsed into the layout every page clones.
	if layout, err = layout.ParseFS(templateFS, "templates/live.html"); err != nil {
		return nil, fmt.Errorf("webui: partials: %w", err)
	}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || base == "live.html" {
			continue
		}
		t, err := template.Must(layout.Clone()).ParseFS(templateFS, n)
		if err != nil {
			return nil, fmt.Errorf("webui: template %s: %w", base, err)
		}
		pages[strings.TrimSuffix(base, ".html")] = t
	}
	return pages, nil
}

// query builds a local URL with the non-empty parameters of kv (name, value, name, value…).
func query(base string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if len(v) == 0 {
		return base
	}
	return base + "?" + v.Encode()
}

// view is what every page template receives.
type view struct {
	L     Messages
	User  *auth.User
	CSRF  string
	Path  string // the request URI, for the language switch to come back to
	Nav   []navLink
	Title string
	Data  any
}

type navLink struct {
	Href, Label string
	Current     bool
}

// csrfToken returns the visitor's CSRF token, setting the double-submit cookie when there is
// none yet, so that every page's forms (the login form too) carry one.
func (u *UI) csrfToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(auth.CSRFCookie); err == nil && c.Value != "" {
		return c.Value
	}
	t := auth.NewCSRFToken()
	http.SetCookie(w, auth.NewCSRFCookie(t, u.secureCookies(r)))
	return t
}

// secureCookies decides, for every cookie the UI sets, whether it is Secure: when the request
// came over TLS, or users reach the server over HTTPS through a proxy (Config.SecureCookies),
// where the request we see is plain HTTP although the browser's was not.
func (u *UI) secureCookies(r *http.Request) bool { return u.cfg.SecureCookies || r.TLS != nil }

// nav is the menu for the user: only the pages its role may open.
func (u *UI) nav(r *http.Request, m Messages) []navLink {
	usr := userOf(r)
	var links []navLink
	add := func(href, key string) {
		links = append(links, navLink{Href: href, Label: m.T(key), Current: r.URL.Path == href || strings.HasPrefix(r.URL.Path, href+"/")})
	}
	add("/", "nav.home")
	if u.req != nil {
		add("/portal", "nav.portal")
	}
	if u.consult != nil {
		add("/consultations", "nav.consultations")
	}
	if u.inspections != nil {
		add("/report-camera", "nav.report_camera")
	}
	if usr == nil {
		return links
	}
	if u.req != nil && u.allowed(usr, "GET /api/v1/applications") {
		if usr.Role == auth.RoleApplicant {
			add("/applications", "nav.my_applications")
		} else {
			add("/applications", "nav.review_queue")
		}
	}
	if u.allowed(usr, "GET /api/v1/cameras") {
		add("/cameras", "nav.cameras")
	}
	if u.grid != nil && u.allowed(usr, "GET /api/v1/live/views") {
		add("/live", "nav.live_grid")
	}
	if u.allowed(usr, "POST /api/v1/viewings") && usr.Role != auth.RoleAuditor {
		add("/timeline", "nav.timeline")
	}
	if u.allowed(usr, "GET /api/v1/compliance") {
		add("/compliance", "nav.compliance")
	}
	if u.allowed(usr, "GET /api/v1/places/coverage") {
		add("/coverage", "nav.coverage")
	}
	if u.allowed(usr, "GET /api/v1/maintenance/orders") {
		add("/maintenance", "nav.maintenance")
	}
	if u.inspections != nil && u.allowed(usr, "GET /api/v1/inspections/overdue") {
		add("/inspections", "nav.inspections")
	}
	if u.allowed(usr, "GET /api/v1/trace") {
		add("/trace", "nav.trace")
	}
	if u.allowed(usr, "GET /api/v1/exports") {
		add("/exports", "nav.exports")
	}
	if u.sharing != nil && u.allowed(usr, "GET /api/v1/grants") {
		add("/sharing/grants", "nav.grants")
	}
	if u.sharing != nil && u.allowed(usr, "GET /api/v1/groups") {
		add("/sharing/groups", "nav.groups")
	}
	if u.sharing != nil && u.allowed(usr, "GET /api/v1/grants/accesses") {
		add("/sharing/accesses", "nav.accesses")
	}
	if u.req != nil && u.allowed(usr, "GET /api/v1/footage-requests") {
		add("/footage-requests", "nav.footage_requests")
	}
	if u.gb != nil && u.allowed(usr, "GET /api/v1/gb28181/devices") {
		add("/gb28181", "nav.gb28181")
	}
	if u.allowed(usr, "GET /api/v1/users") {
		add("/admin/users", "nav.users")
	}
	if u.allowed(usr, "POST /api/v1/organisations") {
		add("/admin/organisations", "nav.organisations")
	}
	if u.req != nil && u.allowed(usr, "POST /api/v1/procedures") {
		add("/admin/procedure", "nav.procedure")
	}
	return links
}

// render writes a page. It renders into a buffer first, so a template error becomes a clean 500
// rather than half a page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name, titleKey string, data any) {
	m := u.messages(r)
	v := view{L: m, User: userOf(r), CSRF: u.csrfToken(w, r), Path: r.URL.RequestURI(), Nav: u.nav(r, m), Title: m.T(titleKey), Data: data}
	t, ok := u.pages[name]
	var buf bytes.Buffer
	if !ok {
		u.log.Error("no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		u.log.Error("render page", "name", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderError shows an error page with a message from the catalogue.
func (u *UI) renderError(w http.ResponseWriter, r *http.Request, status int, key string) {
	u.render(w, r, status, "error", "error.title", struct {
		Status  int
		Message string
	}{status, u.messages(r).T(key)})
}
