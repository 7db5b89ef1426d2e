/**
 * EC2 Query API responses as XML, from the AWS CLI's JSON (PascalCase) of the same
 * objects. Element names follow the EC2 API Reference's response elements: lists are
 * `<xxxSet>`/`<item>` (DescribeSecurityGroups' `securityGroupInfo`, an IpPermission's
 * `groups` for UserIdGroupPairs, an Instance's `groupSet`, `ipAddress` for
 * PublicIpAddress, `instanceState`; a NetworkAcl's `default` for IsDefault), every other
 * member is the lower-camel name. A key it does not know is an error, so a fixture
 * cannot carry data the real API would never send.
 */

/** Renamed members, by the member's own name or `Parent.Member` where it depends on the shape. */
const renamed: Record<string, string> = {
  'DescribeSecurityGroupsResponse.SecurityGroups': 'securityGroupInfo',
  'Instance.SecurityGroups': 'groupSet',
  'Instance.PublicIpAddress': 'ipAddress',
  'Instance.State': 'instanceState',
  'SecurityGroup.Description': 'groupDescription',
  'NetworkAcl.IsDefault': 'default',
  'IpPermission.UserIdGroupPairs': 'groups',
  'IpPermission.IpRanges': 'ipRanges',
  'IpPermission.Ipv6Ranges': 'ipv6Ranges',
  'IpPermission.PrefixListIds': 'prefixListIds',
  'SecurityGroup.IpPermissions': 'ipPermissions',
  'SecurityGroup.IpPermissionsEgress': 'ipPermissionsEgress',
  'NetworkAcl.Entries': 'entrySet',
  'Reservation.Groups': 'groupSet',
  'Reservation.Instances': 'instancesSet',
  'NatGateway.NatGatewayAddresses': 'natGatewayAddressSet',
};

/** The shape of each list's items (for the renames above), by list member. */
const itemShape: Record<string, string> = {
  SecurityGroups: 'SecurityGroup',
  Reservations: 'Reservation',
  Instances: 'Instance',
  IpPermissions: 'IpPermission',
  IpPermissionsEgress: 'IpPermission',
  NetworkAcls: 'NetworkAcl',
  RouteTables: 'RouteTable',
  Subnets: 'Subnet',
  NatGateways: 'NatGateway',
};

const known = new Set([
  ...'GroupId GroupName OwnerId VpcId IpProtocol FromPort ToPort CidrIp CidrIpv6 Description UserId PrefixListId'.split(
    ' ',
  ),
  ...'SubnetId CidrBlock AvailabilityZone State MapPublicIpOnLaunch SubnetArn'.split(' '),
  ...'NetworkAclId Associations NetworkAclAssociationId Entries IsDefault Tags RuleNumber Protocol RuleAction Egress PortRange From To Ipv6CidrBlock'.split(
    ' ',
  ),
  ...'RouteTableId Routes PropagatingVgws DestinationCidrBlock GatewayId NatGatewayId TransitGatewayId VpcPeeringConnectionId NetworkInterfaceId InstanceId VpcEndpointId Origin Main RouteTableAssociationId AssociationState'.split(
    ' ',
  ),
  ...'NatGatewayAddresses AllocationId PrivateIp PublicIp IsPrimary Status CreateTime ConnectivityType'.split(
    ' ',
  ),
  ...'Reservations ReservationId Groups Instances InstanceType PrivateDnsName PrivateIpAddress PublicIpAddress SecurityGroups Placement Tenancy Code Name'.split(
    ' ',
  ),
  ...'SecurityGroups IpPermissions IpPermissionsEgress UserIdGroupPairs IpRanges Ipv6Ranges PrefixListIds NetworkAcls RouteTables Subnets NatGateways'.split(
    ' ',
  ),
]);

function xmlName(parent: string, key: string, isList: boolean): string {
  const special = renamed[`${parent}.${key}`];
  if (special) return special;
  if (!known.has(key)) throw new Error(`ec2-xml: no EC2 XML name known for ${parent}.${key}`);
  const camel = key.charAt(0).toLowerCase() + key.slice(1);
  // Lists are "<singular>Set" in the EC2 Query API (Associations → associationSet).
  return isList ? `${camel.replace(/s$/, '')}Set` : camel;
}

function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function member(parent: string, key: string, value: unknown): string {
  const name = xmlName(parent, key, Array.isArray(value));
  return `<${name}>${body(itemShape[key] ?? key, value)}</${name}>`;
}

function body(shape: string, value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => `<item>${body(shape, v)}</item>`).join('');
  if (value !== null && typeof value === 'object')
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => member(shape, k, v))
      .join('');
  return xmlEscape(String(value));
}

export function ec2Response(action: string, requestId: string, doc: Record<string, unknown>): string {
  const root = `${action}Response`;
  const inner = Object.entries(doc)
    .map(([k, v]) => member(root, k, v))
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>${requestId}</requestId>${inner}</${root}>`;
}

/** The EC2 error document (EC2 API Reference, "Error codes": Response/Errors/Error, RequestID). */
export function ec2Error(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}
