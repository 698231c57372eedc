package webui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"civicam/internal/access"
	"civicam/internal/fault"
	"civicam/internal/registry"
)

// coverageRoutes are the key places' coverage and the duplicate-construction check (REG-1, REG-3).
func (u *UI) coverageRoutes() []*page {
	return []*page{
		{Pattern: "GET /coverage", APIRoute: "GET /api/v1/places/coverage", Handler: u.coveragePage},
		{Pattern: "GET /cameras/{id}/duplicates", APIRoute: "GET /api/v1/cameras/{id}/duplicate-check", Handler: u.duplicatesPage},
		{Pattern: "POST /cameras/{id}/construction-approval", APIRoute: "POST /api/v1/cameras/{id}/construction-approval", Handler: u.decideConstruction},
	}
}

type coverageData struct {
	Report *registry.CoverageReport
	Labels map[string]string // place category → label in the reader's language
	Map    mapView
}

// coveragePage is the report of key places no active camera reaches, with its map layer.
func (u *UI) coveragePage(w http.ResponseWriter, r *http.Request) error {
	rep, err := u.reg.KeyPlaceCoverage(r.Context())
	if err != nil {
		return err
	}
	zh := u.language(r) == "zh"
	labels := map[string]string{}
	for _, c := range u.reg.Pack().Categories() {
		labels[c.ID] = c.Label
		if zh && c.LabelZH != "" {
			labels[c.ID] = c.LabelZH
		}
	}
	d := coverageData{Report: rep, Labels: labels, Map: buildPlacesMap(rep.Gaps, u.cfg.TileURL)}
	u.render(w, r, http.StatusOK, "coverage", "coverage.title", d)
	return nil
}

type duplicatesData struct {
	Camera  registry.Camera
	Report  *registry.DuplicateReport
	Decide  bool // the reader's role may decide on construction
	Message string
}

func pct(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func (u *UI) duplicatesPage(w http.ResponseWriter, r *http.Request) error {
	return u.renderDuplicates(w, r, http.StatusOK, "")
}

func (u *UI) renderDuplicates(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	id := r.PathValue("id")
	if !registry.ValidID(id) {
		return errNotFound
	}
	usr := userOf(r)
	c, err := u.reg.Camera(r.Context(), access.ScopeOf(usr), id)
	if errors.Is(err, fault.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	rep, err := u.reg.DuplicateCheck(r.Context(), access.ScopeOf(usr), id)
	if err != nil {
		return err
	}
	d := duplicatesData{Camera: c.Public(), Report: rep, Message: msg,
		Decide: u.allowed(usr, "POST /api/v1/cameras/{id}/construction-approval") && c.Status == registry.StatusPlanned}
	u.render(w, r, status, "duplicates", "duplicate.title", d)
	return nil
}

// decideConstruction approves or declines building a duplicate camera.
func (u *UI) decideConstruction(w http.ResponseWriter, r *http.Request) error {
	_, err := u.reg.DecideConstruction(r.Context(), userOf(r), r.PathValue("id"), registry.ConstructionDecision{
		Decision: r.PostFormValue("decision"), Note: strings.TrimSpace(r.PostFormValue("note"))})
	if err != nil {
		return showRefusal(u.messages(r), err, func(status int, msg string) error {
			return u.renderDuplicates(w, r, status, msg)
		})
	}
	http.Redirect(w, r, "/cameras/"+r.PathValue("id")+"/duplicates", http.StatusSeeOther)
	return nil
}
