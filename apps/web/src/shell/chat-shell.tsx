import { type ReactNode, useEffect, useRef, useState } from "react";
import { matchPath, useLocation } from "../navigation.tsx";
import { Sidebar } from "./sidebar.tsx";

/**
 * The signed-in chat layout: the sidebar on the left, the page (a room, the room directory) in
 * the middle; a room draws its own thread pane on the right. Below 48rem the sidebar is a
 * drawer behind a Menu button, and the page under an open drawer is inert.
 */
export function ChatShell({ children }: { children: ReactNode }) {
  const { path } = useLocation();
  const currentRoomId = matchPath("/rooms/:roomId", path)?.roomId ?? null;
  const [drawerOpen, setDrawerOpen] = useState(false);
  const menuButton = useRef<HTMLButtonElement>(null);

  // Choosing a room from the drawer is the end of the errand: it closes.
  // biome-ignore lint/correctness/useExhaustiveDependencies: the path is the trigger, not an input.
  useEffect(() => setDrawerOpen(false), [path]);

  // Closed by the user (Escape, the close button, the backdrop): focus goes back to the Menu
  // button, once the page is no longer inert; closed by choosing a room, the new page takes it.
  const refocusMenu = useRef(false);
  useEffect(() => {
    if (!drawerOpen && refocusMenu.current) {
      refocusMenu.current = false;
      menuButton.current?.focus();
    }
  }, [drawerOpen]);
  const closeDrawer = () => {
    refocusMenu.current = true;
    setDrawerOpen(false);
  };

  return (
    <div className="shell">
      <Sidebar currentRoomId={currentRoomId} currentPath={path} open={drawerOpen} onClose={closeDrawer} />
      {drawerOpen && <div className="drawer-backdrop phone-only" aria-hidden="true" onClick={closeDrawer} />}
      <main id="main" className="shell-main" inert={drawerOpen}>
        <button
          ref={menuButton}
          type="button"
          className="secondary phone-only menu-button"
          aria-expanded={drawerOpen}
          aria-controls="sidebar"
          onClick={() => setDrawerOpen(true)}
        >
          <span aria-hidden="true">☰ </span>Menu
        </button>
        {children}
      </main>
    </div>
  );
}
