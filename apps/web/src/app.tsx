import { useMutation } from "@tanstack/react-query";
import { lazy, type ReactNode, Suspense } from "react";
import { ForbiddenPage } from "./admin/forbidden-page.tsx";
import { ConnectionIndicator } from "./connection-indicator.tsx";
import { ReportsPage } from "./moderation/reports-page.tsx";
import { RoomSettingsPage } from "./moderation/room-settings-page.tsx";
import { Link, matchPath, NavLink, navigate, useLocation } from "./navigation.tsx";
import { ContactPage } from "./pages/contact-page.tsx";
import { DemoPage } from "./pages/demo-page.tsx";
import { MentionsPage } from "./pages/mentions-page.tsx";
import { NewDmPage } from "./pages/new-dm-page.tsx";
import { NotFoundPage } from "./pages/not-found-page.tsx";
import { ResetPasswordPage } from "./pages/reset-password-page.tsx";
import { RoomsPage } from "./pages/rooms-page.tsx";
import { SearchPage } from "./pages/search-page.tsx";
import { SignInPage } from "./pages/sign-in-page.tsx";
import { SignUpPage } from "./pages/sign-up-page.tsx";
import { VerifyEmailPage } from "./pages/verify-email-page.tsx";
import { useTRPC } from "./parley.ts";
import { RoomPage } from "./room/room-page.tsx";
import { type Me, useMe, useSessionChanged } from "./session.ts";
import { ChatShell } from "./shell/chat-shell.tsx";

// Only admins open these pages: their code is fetched when one does, not by every visitor
// (the main script stays under Vite's 500 kB warning, the budget bundle.test.ts holds it to).
const AdminPage = lazy(() => import("./admin/admin-page.tsx").then((m) => ({ default: m.AdminPage })));

/** The pages drawn inside the chat layout (sidebar, thread pane) for a signed-in user. */
const isChatPath = (path: string) =>
  path === "/" ||
  path === "/rooms" ||
  path.startsWith("/rooms/") ||
  path === "/mentions" ||
  path === "/messages/new";

export function App() {
  const me = useMe();
  const { path } = useLocation();
  return (
    <>
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      {/* The banner inside the header landmark: content outside every landmark is missed by
          people who move through a page by its landmarks. */}
      <header>
        <div className="site-header">
          <Link to="/" className="brand">
            Parley
          </Link>
          <nav aria-label="Main">
            <ul>
              {me && (
                <>
                  <li>
                    <NavLink to="/rooms">Rooms</NavLink>
                  </li>
                  <li>
                    <NavLink to="/search">Search</NavLink>
                  </li>
                </>
              )}
              <li>
                <NavLink to="/contact">Contact</NavLink>
              </li>
              <li>
                <NavLink to="/demo">Request a demo</NavLink>
              </li>
              {me?.role === "admin" && (
                <li>
                  <NavLink to="/admin/submissions" section="/admin">
                    Admin
                  </NavLink>
                </li>
              )}
            </ul>
          </nav>
          <ConnectionIndicator />
          <Account me={me} />
        </div>
        {me && !me.emailVerified && (
          <p className="banner">
            Please verify your email address: <Link to="/verify-email">get a new link</Link>.
          </p>
        )}
      </header>
      {me && isChatPath(path) ? (
        <ChatShell>
          <CurrentPage me={me} />
        </ChatShell>
      ) : (
        <main id="main">
          <CurrentPage me={me} />
        </main>
      )}
    </>
  );
}

function Account({ me }: { me: Me | null | undefined }) {
  const trpc = useTRPC();
  const sessionChanged = useSessionChanged();
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSettled: async () => {
        navigate("/sign-in", { replace: true });
        await sessionChanged();
      },
    }),
  );
  if (me === undefined) return null;
  if (me === null) {
    return (
      <p className="account">
        <Link to="/sign-in">Sign in</Link> · <Link to="/sign-up">Sign up</Link>
      </p>
    );
  }
  return (
    <p className="account">
      <span>{me.displayName}</span>{" "}
      <button type="button" className="link-button" onClick={() => logout.mutate()}>
        Sign out
      </button>
    </p>
  );
}

function CurrentPage({ me }: { me: Me | null | undefined }) {
  const { path, query } = useLocation();
  const signedIn = (render: (me: Me) => ReactNode) => {
    if (me === undefined) return <p>Loading…</p>;
    if (me === null) return <SignInPage next={path + (query.size ? `?${query}` : "")} />;
    return render(me);
  };

  if (path === "/") return signedIn(() => <RoomsPage />);
  if (path === "/sign-in") return <SignInPage next={query.get("next")} />;
  if (path === "/sign-up") return <SignUpPage />;
  if (path === "/verify-email") return <VerifyEmailPage token={query.get("token")} />;
  if (path === "/reset-password") return <ResetPasswordPage token={query.get("token")} />;
  if (path === "/contact") return <ContactPage />;
  if (path === "/demo") return <DemoPage />;
  if (path === "/rooms") return signedIn(() => <RoomsPage />);
  if (path === "/search") return signedIn(() => <SearchPage query={query.get("q") ?? ""} />);
  const settings = matchPath("/rooms/:roomId/settings", path);
  if (settings)
    return signedIn((me) => <RoomSettingsPage key={settings.roomId} roomId={settings.roomId} me={me} />);
  const roomReports = matchPath("/rooms/:roomId/reports", path);
  if (roomReports)
    return signedIn(() => <ReportsPage key={roomReports.roomId} roomId={roomReports.roomId} />);
  if (path === "/moderation/reports") return signedIn(() => <ReportsPage />);
  if (path === "/mentions") return signedIn(() => <MentionsPage />);
  if (path === "/messages/new") return signedIn((me) => <NewDmPage me={me} />);
  const room = matchPath("/rooms/:roomId", path);
  // Keyed by room: each room's live state starts empty and its subscription is its own.
  if (room) return signedIn((me) => <RoomPage key={room.roomId} roomId={room.roomId} me={me} />);
  // Every /admin address, even one that does not exist, is refused to a non-admin the same way.
  if (path === "/admin" || path.startsWith("/admin/")) {
    return signedIn((me) =>
      me.role === "admin" ? (
        <Suspense fallback={<p>Loading…</p>}>
          <AdminPage path={path} query={query} />
        </Suspense>
      ) : (
        <ForbiddenPage />
      ),
    );
  }
  return <NotFoundPage />;
}
