/** The dashboard page as a Bun HTML import, in a module of its own so the server loads it only for --api-port. */
import page from "../dashboard/index.html";

export default page;
