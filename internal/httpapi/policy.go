package httpapi

import "net/http"

// policyPack describes the policy pack in force: what the forms offer and what the rules say.
func (s *Server) policyPack(w http.ResponseWriter, r *http.Request) error {
	p := s.reg.Pack()
	type category struct {
		ID      string `json:"id"`
		Kind    string `json:"kind"`
		Label   string `json:"label"`
		LabelZH string `json:"label_zh"`
		Rule    string `json:"rule"`
	}
	type rule struct {
		ID          string `json:"id"`
		Requirement string `json:"requirement,omitempty"`
		Title       string `json:"title"`
		Text        string `json:"text"`
		Reason      string `json:"reason"`
	}
	var cats []category
	for _, c := range p.Categories() {
		cats = append(cats, category{c.ID, string(c.Kind), c.Label, c.LabelZH, c.Rule})
	}
	var rules []rule
	for _, rl := range p.Rules() {
		rules = append(rules, rule{rl.ID, rl.Requirement, rl.Title, rl.Text, rl.Reason})
	}
	type basis struct {
		ID      string   `json:"id"`
		Law     string   `json:"law"`
		LawZH   string   `json:"law_zh"`
		Article string   `json:"article"`
		Permits []string `json:"permits"`
		Text    string   `json:"text"`
		TextZH  string   `json:"text_zh"`
	}
	bases := []basis{}
	for _, b := range p.LegalBases() {
		var permits []string
		for _, pm := range b.Permits {
			permits = append(permits, string(pm))
		}
		bases = append(bases, basis{b.ID, b.Law, b.LawZH, b.Article, permits, b.Text, b.TextZH})
	}
	reg := p.Regulation()
	writeJSON(w, http.StatusOK, map[string]any{
		"version":                   p.Version(),
		"digest":                    p.Digest(),
		"regulation":                map[string]any{"name": reg.Name, "name_zh": reg.NameZH, "jurisdiction": reg.Jurisdiction, "in_force": reg.InForce.Format("2006-01-02")},
		"retention_floor_days":      p.RetentionFloorDays(),
		"maintenance_interval_days": p.MaintenanceIntervalDays(),
		"signs_required":            p.SignsRequired(),
		"place_categories":          cats,
		"rules":                     rules,
		"legal_bases":               bases,
	})
	return nil
}
