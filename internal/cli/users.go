package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"

	"civicam/internal/accounts"
	"civicam/internal/fault"
	"civicam/internal/registry"
)

func userAdd(ctx context.Context, e env, args []string) error {
	fs, cf := newCoreFlagSet(e, "user add")
	username := fs.String("username", "", "the new user's name")
	role := fs.String("role", "", "admin, operator, owner, reviewer, auditor or applicant")
	org := fs.String("org", "", "the organisation id (operators and owners)")
	pwStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *username == "" || *role == "" {
		return usageError{"--username and --role are required"}
	}
	if !*pwStdin {
		return usageError{"--password-stdin is required: passwords are never taken from the command line"}
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return errors.New("no password on standard input")
	}
	password := strings.TrimRight(line, "\r\n")
	core, actx, err := cf.open(ctx, e)
	if err != nil {
		return err
	}
	defer core.Close()
	u, err := core.Accounts.CreateUser(actx, accounts.NewUser{Username: *username, Password: password, Role: *role, OrganisationID: *org})
	if err != nil {
		return friendly(err)
	}
	fmt.Fprintf(e.stdout, "user %s (%s) created with id %s\n", u.Username, u.Role, u.ID)
	return nil
}

func orgAdd(ctx context.Context, e env, args []string) error {
	fs, cf := newCoreFlagSet(e, "org add")
	var o registry.Organisation
	fs.StringVar(&o.Name, "name", "", "the organisation's name")
	fs.StringVar(&o.Kind, "kind", "", "department, enterprise or establishment")
	fs.StringVar(&o.DepartmentType, "department-type", "", "for departments: "+strings.Join(registry.DepartmentTypes, ", "))
	fs.StringVar(&o.EstablishmentType, "establishment-type", "", "for establishments: "+strings.Join(registry.EstablishmentTypes, ", "))
	if err := parse(fs, args); err != nil {
		return err
	}
	core, actx, err := cf.open(ctx, e)
	if err != nil {
		return err
	}
	defer core.Close()
	if err := core.Registry.CreateOrganisation(actx, &o); err != nil {
		return friendly(err)
	}
	fmt.Fprintln(e.stdout, o.ID)
	return nil
}

// friendly turns validation errors into the same words the API uses.
func friendly(err error) error {
	var inv *registry.InvalidError
	var pe *registry.PolicyError
	if fe, ok := fault.As(err); ok && fe.Kind == fault.Invalid {
		return fmt.Errorf("%s: %w", fe.CodeOrKind(), err)
	}
	switch {
	case errors.As(err, &inv):
		return fmt.Errorf("invalid %s", inv.Error())
	case errors.As(err, &pe):
		return fmt.Errorf("refused by policy: %s", pe.Error())
	}
	return err
}
