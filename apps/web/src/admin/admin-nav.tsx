import { NavLink } from "../navigation.tsx";

/** The admin pages' own navigation, above each of them. */
export function AdminNav() {
  return (
    <nav aria-label="Admin" className="admin-nav">
      <ul className="admin-nav-list">
        <li>
          <NavLink to="/admin/submissions">Submissions</NavLink>
        </li>
        <li>
          <NavLink to="/admin/users">Users</NavLink>
        </li>
        <li>
          <NavLink to="/admin/jobs">Email jobs</NavLink>
        </li>
        <li>
          <NavLink to="/admin/audit">Audit log</NavLink>
          <NavLink to="/admin/reports">Reports</NavLink>
        </li>
      </ul>
    </nav>
  );
}
