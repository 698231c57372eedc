package webui

import (
	"net/http"

	"civicam/internal/accounts"
	"civicam/internal/auth"
	"civicam/internal/registry"
)

type userRow struct {
	ID, Username, Role, Organisation, OrganisationID string
	Disabled, Self                                   bool
	Roles, Orgs                                      []option
}

type usersData struct {
	Users  []userRow
	Roles  []option
	Orgs   []option
	Error  string
	Notice string
	Form   map[string]string
	// MinPassword is the shortest password auth accepts, for the form's hint.
	MinPassword int
}

// adminUsers lists the accounts, with a form to create one and a form per account to change it.
func (u *UI) adminUsers(w http.ResponseWriter, r *http.Request) error {
	return u.renderUsers(w, r, http.StatusOK, "", nil)
}

func (u *UI) renderUsers(w http.ResponseWriter, r *http.Request, status int, errMsg string, form map[string]string) error {
	m := u.messages(r)
	ctx := r.Context()
	users, err := u.accounts.Users(ctx, "")
	if err != nil {
		return err
	}
	orgs, err := u.reg.Organisations(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, o := range orgs {
		names[o.ID] = o.Name
	}
	roleOptions := func(sel string) []option {
		var out []option
		for _, rl := range auth.Roles() {
			out = append(out, option{Value: string(rl), Label: m.Label("role", string(rl)), Selected: string(rl) == sel})
		}
		return out
	}
	orgOptions := func(sel string) []option {
		out := []option{{Value: "", Label: m.T("admin.no_org")}}
		for _, o := range orgs {
			out = append(out, option{Value: o.ID, Label: o.Name, Selected: o.ID == sel})
		}
		return out
	}
	if form == nil {
		form = map[string]string{}
	}
	d := usersData{Roles: roleOptions(form["role"]), Orgs: orgOptions(form["organisation_id"]), Error: errMsg, Form: form, MinPassword: auth.MinPasswordLen}
	switch r.URL.Query().Get("done") {
	case "created":
		d.Notice = m.T("admin.user_created")
	case "updated":
		d.Notice = m.T("admin.user_updated")
	}
	self := userOf(r)
	for _, x := range users {
		d.Users = append(d.Users, userRow{ID: x.ID, Username: x.Username, Role: string(x.Role), Organisation: names[x.OrganisationID],
			OrganisationID: x.OrganisationID, Disabled: x.Disabled, Self: x.ID == self.ID,
			Roles: roleOptions(string(x.Role)), Orgs: orgOptions(x.OrganisationID)})
	}
	u.render(w, r, status, "users", "admin.users_title", d)
	return nil
}

// adminCreateUser creates an account through the accounts service (validation, trail), as the
// API and the command line do.
func (u *UI) adminCreateUser(w http.ResponseWriter, r *http.Request) error {
	form := map[string]string{"username": r.PostFormValue("username"), "role": r.PostFormValue("role"), "organisation_id": r.PostFormValue("organisation_id")}
	_, err := u.accounts.CreateUser(r.Context(), accounts.NewUser{Username: form["username"], Password: r.PostFormValue("password"),
		Role: form["role"], OrganisationID: form["organisation_id"]})
	if err != nil {
		return showRefusal(u.messages(r), err, func(status int, msg string) error {
			return u.renderUsers(w, r, status, msg, form)
		})
	}
	http.Redirect(w, r, "/admin/users?done=created", http.StatusSeeOther)
	return nil
}

// adminUpdateUser changes an account's role, organisation, status or password through the
// accounts service, so the rules, the trace and the end of the account's sessions are the same
// whichever face made the change.
func (u *UI) adminUpdateUser(w http.ResponseWriter, r *http.Request) error {
	var p accounts.Patch
	if v := r.PostFormValue("role"); v != "" {
		p.Role = &v
	}
	if v, present := r.PostForm["organisation_id"]; present && len(v) > 0 {
		p.OrganisationID = &v[0]
	}
	if pw := r.PostFormValue("password"); pw != "" {
		p.Password = &pw
	}
	disabled := r.PostFormValue("disabled") == "on"
	p.Disabled = &disabled
	if _, err := u.accounts.UpdateUser(r.Context(), r.PathValue("id"), p); err != nil {
		return showRefusal(u.messages(r), err, func(status int, msg string) error {
			return u.renderUsers(w, r, status, msg, nil)
		})
	}
	http.Redirect(w, r, "/admin/users?done=updated", http.StatusSeeOther)
	return nil
}

type orgsData struct {
	Organisations      []orgRow
	Kinds              []option
	DepartmentTypes    []option
	EstablishmentTypes []option
	Error, Notice      string
	Form               map[string]string
}

type orgRow struct {
	ID, Name, Kind, Type, Created string
}

// adminOrganisations lists the organisations with a form to create one.
func (u *UI) adminOrganisations(w http.ResponseWriter, r *http.Request) error {
	return u.renderOrgs(w, r, http.StatusOK, "", nil)
}

func (u *UI) renderOrgs(w http.ResponseWriter, r *http.Request, status int, errMsg string, form map[string]string) error {
	m := u.messages(r)
	orgs, err := u.reg.Organisations(r.Context())
	if err != nil {
		return err
	}
	if form == nil {
		form = map[string]string{}
	}
	opts := func(prefix string, values []string, sel string, blank bool) []option {
		var out []option
		if blank {
			out = append(out, option{Value: "", Label: "—"})
		}
		for _, v := range values {
			out = append(out, option{Value: v, Label: m.Label(prefix, v), Selected: v == sel})
		}
		return out
	}
	d := orgsData{Error: errMsg, Form: form,
		Kinds:              opts("kind", []string{registry.KindDepartment, registry.KindEnterprise, registry.KindEstablishment}, form["kind"], false),
		DepartmentTypes:    opts("department", registry.DepartmentTypes, form["department_type"], true),
		EstablishmentTypes: opts("establishment", registry.EstablishmentTypes, form["establishment_type"], true),
	}
	if r.URL.Query().Get("done") == "created" {
		d.Notice = m.T("admin.org_created")
	}
	for _, o := range orgs {
		typ := ""
		switch {
		case o.DepartmentType != "":
			typ = m.Label("department", o.DepartmentType)
		case o.EstablishmentType != "":
			typ = m.Label("establishment", o.EstablishmentType)
		}
		d.Organisations = append(d.Organisations, orgRow{ID: o.ID, Name: o.Name, Kind: m.Label("kind", o.Kind), Type: typ, Created: m.Time(o.CreatedAt)})
	}
	u.render(w, r, status, "organisations", "admin.orgs_title", d)
	return nil
}

// adminCreateOrganisation creates an organisation through the registry (validation, trail).
func (u *UI) adminCreateOrganisation(w http.ResponseWriter, r *http.Request) error {
	form := map[string]string{"name": r.PostFormValue("name"), "kind": r.PostFormValue("kind"),
		"department_type": r.PostFormValue("department_type"), "establishment_type": r.PostFormValue("establishment_type")}
	o := &registry.Organisation{Name: form["name"], Kind: form["kind"]}
	// The form offers both type menus; only the one matching the kind is meant.
	switch o.Kind {
	case registry.KindDepartment:
		o.DepartmentType = form["department_type"]
	case registry.KindEstablishment:
		o.EstablishmentType = form["establishment_type"]
	}
	if err := u.reg.CreateOrganisation(r.Context(), o); err != nil {
		return showRefusal(u.messages(r), err, func(status int, msg string) error {
			return u.renderOrgs(w, r, status, msg, form)
		})
	}
	http.Redirect(w, r, "/admin/organisations?done=created", http.StatusSeeOther)
	return nil
}
