/** The seed document's example event of each type, in the DSS shape of DESIGN §3. */
export const NULL_UUID = '00000000-0000-0000-0000-000000000000';

export const seedEvents = {
  connectivity: {
    seq: '1',
    metadata: { oem_id: '1234abcd', oem_model: 'ledevb', dsn: 'AC000W000123456', resource_tags: [], event_type: 'connectivity' },
    connection: { event_time: '2018-09-24T10:26:37Z', user_uuid: NULL_UUID, status: 'Online' },
  },
  datapoint: {
    seq: '123',
    metadata: {
      oem_id: '1234abcd', oem_model: 'linuxevb', dsn: 'AC000W005606115', resource_tags: [], event_type: 'datapoint',
      property_name: 'Blue_LED', display_name: 'Blue_LED', base_type: 'boolean',
    },
    datapoint: {
      id: '1ff9b91c-bfe4-11e8-1261-67d251d3ec96', created_at_from_device: null, updated_at: '2018-09-24T10:25:14Z',
      created_at: '2018-09-24T10:25:14Z', user_uuid: NULL_UUID, echo: true, closed: false, value: 0, metadata: {},
    },
  },
  datapointack: {
    seq: '124',
    metadata: {
      oem_id: '1234abcd', oem_model: 'linuxevb', dsn: 'AC000W005606115', resource_tags: [], event_type: 'datapointack',
      property_name: 'Blue_LED', display_name: 'Blue_LED', base_type: 'boolean',
    },
    datapointack: {
      ack_id: '160c8c90-bfe4-11e8-87f4-8d732085e587', ack_message: 0, ack_status: 200, acked_at: '2018-09-24T10:24:57Z',
      closed: false, created_at_from_device: null, created_at: '2018-09-24T10:24:57Z', echo: false,
      id: '15af3cfc-bfe4-11e8-f2f0-9aab1d61f636', metadata: {}, updated_at: '2018-09-24T10:24:57Z', user_uuid: NULL_UUID, value: 1,
    },
  },
  location: {
    seq: '5',
    metadata: { oem_id: '1234abcd', oem_model: 'ledevb', dsn: 'AC000W000340779', resource_tags: [], event_type: 'location' },
    location_event: { created_at: '2018-09-24T11:04:07Z', ip: '67.255.234.73', lat: '44.769500', long: '-69.428300', provider: 'ip-based', user_uuid: NULL_UUID },
  },
  registration: {
    seq: '9',
    metadata: { oem_id: '1234abcd', oem_model: 'ledevb', dsn: 'AC000W000123456', resource_tags: [], event_type: 'registration' },
    registration_event: { registered: false, registration_type: 'AP-Mode', unregistered_at: '2018-09-24T10:29:50Z', user_uuid: null },
  },
} as const;
