// Cities of the synthetic world. `hub` cities are the interconnection points (big IXPs and cable
// landings) that the backbone links; the others reach the world through one or two hubs.

export type Region = 'na' | 'sa' | 'eu' | 'af' | 'me' | 'as' | 'oc';

export interface City {
  readonly name: string;
  readonly lat: number;
  readonly lon: number;
  readonly region: Region;
  readonly hub: boolean;
  /** How many nodes and renters a city attracts, relative. */
  readonly weight: number;
}

function c(name: string, lat: number, lon: number, region: Region, hub = false, weight = 1): City {
  return { name, lat, lon, region, hub, weight };
}

export const CITIES: readonly City[] = [
  // North America
  c('Ashburn', 39.04, -77.49, 'na', true, 3),
  c('New York', 40.71, -74.01, 'na', true, 4),
  c('Chicago', 41.88, -87.63, 'na', true, 3),
  c('Dallas', 32.78, -96.8, 'na', true, 2),
  c('Los Angeles', 34.05, -118.24, 'na', true, 3),
  c('San Jose', 37.34, -121.89, 'na', true, 3),
  c('Seattle', 47.61, -122.33, 'na', true, 2),
  c('Miami', 25.76, -80.19, 'na', true, 2),
  c('Toronto', 43.65, -79.38, 'na', false, 2),
  c('Montreal', 45.5, -73.57, 'na', false, 1),
  c('Vancouver', 49.28, -123.12, 'na', false, 1),
  c('Denver', 39.74, -104.99, 'na', false, 1),
  c('Atlanta', 33.75, -84.39, 'na', false, 2),
  c('Phoenix', 33.45, -112.07, 'na', false, 1),
  c('Boston', 42.36, -71.06, 'na', false, 1),
  c('Minneapolis', 44.98, -93.27, 'na', false, 1),
  c('Houston', 29.76, -95.37, 'na', false, 1),
  c('Salt Lake City', 40.76, -111.89, 'na', false, 1),
  c('Mexico City', 19.43, -99.13, 'na', false, 2),
  c('Guadalajara', 20.66, -103.35, 'na', false, 1),
  // South America
  c('Sao Paulo', -23.55, -46.63, 'sa', true, 3),
  c('Fortaleza', -3.73, -38.52, 'sa', true, 1),
  c('Rio de Janeiro', -22.91, -43.17, 'sa', false, 2),
  c('Buenos Aires', -34.6, -58.38, 'sa', false, 2),
  c('Santiago', -33.45, -70.67, 'sa', false, 1),
  c('Lima', -12.05, -77.04, 'sa', false, 1),
  c('Bogota', 4.71, -74.07, 'sa', false, 1),
  c('Medellin', 6.24, -75.58, 'sa', false, 1),
  c('Montevideo', -34.9, -56.16, 'sa', false, 1),
  c('Quito', -0.18, -78.47, 'sa', false, 1),
  c('Caracas', 10.48, -66.9, 'sa', false, 1),
  // Europe
  c('London', 51.51, -0.13, 'eu', true, 4),
  c('Amsterdam', 52.37, 4.9, 'eu', true, 3),
  c('Frankfurt', 50.11, 8.68, 'eu', true, 4),
  c('Paris', 48.86, 2.35, 'eu', true, 3),
  c('Marseille', 43.3, 5.37, 'eu', true, 1),
  c('Stockholm', 59.33, 18.07, 'eu', true, 2),
  c('Madrid', 40.42, -3.7, 'eu', false, 2),
  c('Lisbon', 38.72, -9.14, 'eu', false, 1),
  c('Milan', 45.46, 9.19, 'eu', false, 2),
  c('Rome', 41.9, 12.5, 'eu', false, 1),
  c('Zurich', 47.38, 8.54, 'eu', false, 1),
  c('Vienna', 48.21, 16.37, 'eu', false, 1),
  c('Warsaw', 52.23, 21.01, 'eu', false, 2),
  c('Prague', 50.08, 14.44, 'eu', false, 1),
  c('Berlin', 52.52, 13.4, 'eu', false, 2),
  c('Dublin', 53.35, -6.26, 'eu', false, 1),
  c('Manchester', 53.48, -2.24, 'eu', false, 1),
  c('Helsinki', 60.17, 24.94, 'eu', false, 1),
  c('Oslo', 59.91, 10.75, 'eu', false, 1),
  c('Bucharest', 44.43, 26.1, 'eu', false, 1),
  c('Sofia', 42.7, 23.32, 'eu', false, 1),
  c('Athens', 37.98, 23.73, 'eu', false, 1),
  c('Kyiv', 50.45, 30.52, 'eu', false, 1),
  c('Istanbul', 41.01, 28.98, 'eu', false, 2),
  c('Moscow', 55.76, 37.62, 'eu', false, 2),
  // Africa
  c('Johannesburg', -26.2, 28.05, 'af', true, 2),
  c('Lagos', 6.52, 3.38, 'af', false, 2),
  c('Nairobi', -1.29, 36.82, 'af', false, 1),
  c('Cairo', 30.04, 31.24, 'af', false, 2),
  c('Cape Town', -33.92, 18.42, 'af', false, 1),
  c('Accra', 5.6, -0.19, 'af', false, 1),
  c('Casablanca', 33.57, -7.59, 'af', false, 1),
  // Middle East
  c('Dubai', 25.2, 55.27, 'me', true, 2),
  c('Tel Aviv', 32.09, 34.78, 'me', false, 1),
  c('Riyadh', 24.71, 46.68, 'me', false, 1),
  // Asia
  c('Mumbai', 19.08, 72.88, 'as', true, 3),
  c('Chennai', 13.08, 80.27, 'as', true, 2),
  c('Singapore', 1.35, 103.82, 'as', true, 3),
  c('Hong Kong', 22.32, 114.17, 'as', true, 3),
  c('Tokyo', 35.68, 139.69, 'as', true, 4),
  c('Delhi', 28.61, 77.21, 'as', false, 2),
  c('Bangalore', 12.97, 77.59, 'as', false, 2),
  c('Karachi', 24.86, 67.0, 'as', false, 1),
  c('Dhaka', 23.81, 90.41, 'as', false, 1),
  c('Bangkok', 13.76, 100.5, 'as', false, 2),
  c('Kuala Lumpur', 3.14, 101.69, 'as', false, 1),
  c('Jakarta', -6.21, 106.85, 'as', false, 2),
  c('Manila', 14.6, 120.98, 'as', false, 1),
  c('Ho Chi Minh City', 10.82, 106.63, 'as', false, 1),
  c('Hanoi', 21.03, 105.85, 'as', false, 1),
  c('Taipei', 25.03, 121.57, 'as', false, 1),
  c('Shanghai', 31.23, 121.47, 'as', false, 2),
  c('Beijing', 39.9, 116.4, 'as', false, 2),
  c('Shenzhen', 22.54, 114.06, 'as', false, 1),
  c('Seoul', 37.57, 126.98, 'as', false, 3),
  c('Osaka', 34.69, 135.5, 'as', false, 2),
  // Oceania
  c('Sydney', -33.87, 151.21, 'oc', true, 2),
  c('Melbourne', -37.81, 144.96, 'oc', false, 1),
  c('Brisbane', -27.47, 153.03, 'oc', false, 1),
  c('Perth', -31.95, 115.86, 'oc', false, 1),
  c('Auckland', -36.85, 174.76, 'oc', false, 1),
];

/**
 * Backbone links between hubs: terrestrial routes within a continent and the subsea cable
 * systems between them. The second number is how much longer than the great circle the cable
 * runs (cables follow coasts and go round continents).
 */
export const BACKBONE: readonly (readonly [string, string, number])[] = [
  ['Ashburn', 'New York', 1.3],
  ['Ashburn', 'Chicago', 1.3],
  ['Ashburn', 'Miami', 1.3],
  ['Ashburn', 'Dallas', 1.3],
  ['New York', 'Chicago', 1.25],
  ['Chicago', 'Dallas', 1.3],
  ['Chicago', 'Seattle', 1.35],
  ['Chicago', 'San Jose', 1.3],
  ['Dallas', 'Los Angeles', 1.3],
  ['Dallas', 'Miami', 1.4],
  ['Los Angeles', 'San Jose', 1.3],
  ['San Jose', 'Seattle', 1.3],
  ['New York', 'London', 1.15],
  ['Ashburn', 'Paris', 1.2],
  ['New York', 'Amsterdam', 1.2],
  ['Miami', 'Sao Paulo', 1.3],
  ['Miami', 'Fortaleza', 1.3],
  ['Fortaleza', 'Sao Paulo', 1.4],
  ['Fortaleza', 'Marseille', 1.35],
  ['London', 'Amsterdam', 1.25],
  ['London', 'Paris', 1.3],
  ['Amsterdam', 'Frankfurt', 1.3],
  ['Paris', 'Frankfurt', 1.3],
  ['Paris', 'Marseille', 1.3],
  ['Frankfurt', 'Marseille', 1.35],
  ['Amsterdam', 'Stockholm', 1.35],
  ['Frankfurt', 'Stockholm', 1.4],
  ['Marseille', 'Dubai', 1.5],
  ['Marseille', 'Mumbai', 1.45],
  ['Marseille', 'Singapore', 1.4],
  ['London', 'Johannesburg', 1.45],
  ['Marseille', 'Johannesburg', 1.55],
  ['Dubai', 'Mumbai', 1.3],
  ['Mumbai', 'Chennai', 1.5],
  ['Chennai', 'Singapore', 1.3],
  ['Mumbai', 'Singapore', 1.35],
  ['Singapore', 'Hong Kong', 1.3],
  ['Hong Kong', 'Tokyo', 1.3],
  ['Singapore', 'Tokyo', 1.35],
  ['Singapore', 'Sydney', 1.35],
  ['Tokyo', 'Seattle', 1.2],
  ['Tokyo', 'San Jose', 1.2],
  ['Tokyo', 'Los Angeles', 1.2],
  ['Hong Kong', 'Los Angeles', 1.25],
  ['Sydney', 'Los Angeles', 1.2],
  ['Sydney', 'San Jose', 1.2],
  ['Johannesburg', 'Mumbai', 1.5],
];
