import { Link } from "../navigation.tsx";
import { Page } from "../page.tsx";

export function NotFoundPage() {
  return (
    <Page title="Page not found">
      <p>
        Nothing lives at this address. <Link to="/">Go home</Link>.
      </p>
    </Page>
  );
}
