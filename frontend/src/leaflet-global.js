// Leaflet, also as the global `L`: the marker-cluster plugin is a UMD script that extends the global.
import L from "leaflet";

window.L = L;
export default L;
