import { ReportsPage } from "../moderation/reports-page.tsx";
import { matchPath } from "../navigation.tsx";
import { NotFoundPage } from "../pages/not-found-page.tsx";
import { AdminNav } from "./admin-nav.tsx";
import { AuditPage } from "./audit-page.tsx";
import { JobsPage } from "./jobs-page.tsx";
import { SubmissionPage } from "./submission-page.tsx";
import { SubmissionsPage } from "./submissions-page.tsx";
import { UsersPage } from "./users-page.tsx";

/** The admin area (the app routes here only for an admin), loaded on demand by app.tsx. */
export function AdminPage({ path, query }: { path: string; query: URLSearchParams }) {
  const page = (() => {
    if (path === "/admin/submissions") return <SubmissionsPage />;
    const submission = matchPath("/admin/submissions/:id", path);
    if (submission) return <SubmissionPage key={submission.id} id={submission.id} />;
    if (path === "/admin/users") return <UsersPage search={query.get("search") ?? ""} />;
    if (path === "/admin/jobs") return <JobsPage />;
    if (path === "/admin/audit") return <AuditPage />;
    if (path === "/admin/reports") return <ReportsPage />;
    return <NotFoundPage />;
  })();
  return (
    <>
      <AdminNav />
      {page}
    </>
  );
}
